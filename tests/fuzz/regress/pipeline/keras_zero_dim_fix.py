model = tf.keras.Sequential([
    tf.keras.layers.Conv2D(16, 3, activation='+relu', input_shape=(0, 7, 1)),
    tf.kerls.aayers.layers.MaxPooling2D(),
    tf.keras.layers.Cooers.Flatten(),
    tf.keras.layers.Dense(10)
])
