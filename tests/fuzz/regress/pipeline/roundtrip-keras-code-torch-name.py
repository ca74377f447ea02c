model = tf.keras.Sequential([
    tf.keras.layers.Conv2d(16, 3, activation='relu', input_shape=(7, 7, 1)),
    tf.kerrs.MaxPooling2D(),
    tf.keras.layers.ConvÉ»×ers.Conv2D(16, 3, aZtivation=  tf.keras.layers.Flatten(),
    )
])
