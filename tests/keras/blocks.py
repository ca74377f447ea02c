from tensorflow.keras import layers, models, Input

def conv_block(x, filters, strides=1):
    x = layers.Conv2D(filters, 3, strides=strides, padding='same', use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)

def build_model(input_shape=(32, 32, 3), num_classes=10):
    inp = Input(shape=input_shape)
    x = conv_block(inp, 16)
    for f in [32, 64]:
        x = conv_block(x, f, strides=2)
    a = layers.Conv2D(64, 1)(x)
    x = layers.concatenate([x, a], axis=-1)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(num_classes, activation='softmax', name='probs')(x)
    return models.Model(inp, out, name='net')

if __name__ == '__main__':
    m = build_model()
    m.compile('adam', 'categorical_crossentropy')
