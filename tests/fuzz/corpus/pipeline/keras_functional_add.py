import keras
from keras import layers

inputs = keras.Input(shape=(64, 64, 3))
x = layers.Conv2D(32, 3, strides=2, activation="relu")(inputs)
y = layers.Conv2D(32, 3, strides=2, padding="same")(inputs)
z = layers.add([x, y])
outputs = layers.Dense(10)(layers.Flatten()(z))
model = keras.Model(inputs=inputs, outputs=outputs)
model.summary()
