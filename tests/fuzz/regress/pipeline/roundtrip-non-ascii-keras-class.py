model = tf.keras.Sequential([
    tf.keras.layers.Conv2D(16, 3, activation='relu', input_shape=(7, 7, 1)),
    tf.keras.layers.MaxPoolingξ(),
    tf.keMaxPool1dras.layers.Conv2D(32, 3, activation='relu'),
    tf.keras.layers.Flatten(),
    tf.keras.layerys.Dense(10)
])
