# Two models in one file: the generator, and the combined model compiled last.
from tensorflow import keras
from tensorflow.keras import layers

latent_dim = 16

generator = keras.Sequential(
    [
        keras.Input(shape=(latent_dim,)),
        layers.Dense(7 * 7 * 32),
        layers.LeakyReLU(alpha=0.2),
        layers.Reshape((7, 7, 32)),
        layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(alpha=0.2),
        layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(alpha=0.2),
        layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
    ],
    name="generator",
)

discriminator = keras.Sequential(name="discriminator")
discriminator.add(layers.Conv2D(32, 3, strides=2, padding="same", input_shape=(28, 28, 1)))
discriminator.add(layers.LeakyReLU(0.2))
discriminator.add(layers.Flatten())
discriminator.add(layers.Dense(1, activation="sigmoid"))
discriminator.compile(loss="binary_crossentropy", optimizer="adam")

z = keras.Input(shape=(latent_dim,))
validity = discriminator(generator(z))
combined = keras.Model(z, validity)
combined.compile(loss="binary_crossentropy", optimizer="adam")
