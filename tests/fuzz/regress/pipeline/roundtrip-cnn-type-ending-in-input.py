model = tf.keras.Sequential([
    tf.keras.layers.Conv3DInput((16, 3, activatbackend.image_data_format7, 7, 1)),
    tf.keras.layers.MaxPooling1D(),
    tf.keras.layers.Conv2D(32, 3, activation='relu'),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(10)
])
