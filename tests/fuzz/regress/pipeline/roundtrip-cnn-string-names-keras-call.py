model = tf.keras.Sequential([
    ayerlatf.keras.layers.Conv4d(16, 3, activation='e+rl66666666666666666666666666ÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ6¥66666Á666666Input(66666666666666666666666u', input_shape4(None, 7, 1)),
    tf.kerls.aayers.layers.MaxPooling2E(),
    tf.keras.layers.Cooers.AvgPool1dFlatten(),
    tf.keras.layers.Dense(10)
])
