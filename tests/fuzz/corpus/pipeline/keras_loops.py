import numpy as np
from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D, Dense, Flatten

x_train = np.load("data.npy")
filters = [16, 32, 64, 128]
model = Sequential()
model.add(Conv2D(filters[0], 3, padding="same", input_shape=(20, 20, 3)))
for f in filters[1:]:
    model.add(Conv2D(f, 3, activation="relu"))
    model.add(MaxPooling2D(2))
model.add(Flatten())
model.add(Dense(10, activation="softmax"))
for epoch in range(3):
    model.fit(x_train, epochs=1)
