"""The seed's own stack as the peer of `mnistzip bench`: Keras 3 on TensorFlow CPU running the same
training steps as graphs/bench (W1 dense autoencoder, W2 CNN, W3s/W3 CapsNet small and paper size, W4
DenseNet small): same layers, losses, Adam(1e-3) and batch sizes, on random inputs, as Keras runs them
by default (model.compile + train_on_batch; the CapsNet, which needs labels as an input, through a
tf.function step, as CapsNet-Keras does).

Prints one JSON object: {"W1": {"Keras/TF CPU": seconds per step, ...}, ...} plus, per workload, the
first step (tracing and compilation) under "Keras/TF CPU first step". make bench installs TensorFlow in a
virtual environment (never make test).

    python keras_bench.py [MIN_SECONDS]
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

MIN_SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
COLUMN = "Keras/TF CPU"
rng = np.random.default_rng(1)


def images(n, shape=(784,)):
    return rng.random((n, *shape), dtype=np.float32)


def labels(n):
    return rng.integers(0, 10, size=(n,)).astype(np.int32)


def w1():
    model = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(512, activation="relu"),
        layers.Dense(32),
        layers.Dense(512, activation="relu"),
        layers.Dense(784, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    x, y = images(128), images(128)
    return lambda: model.train_on_batch(x, y)


def w2():
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = images(64, (28, 28, 1)), labels(64)
    return lambda: model.train_on_batch(x, y)


def w4():
    """DenseNet small: k = 12, 3 blocks of 4 BN-ReLU-conv3×3 layers, stem 3×3 conv 24 + 2×2 average
    pooling, transitions BN + 1×1 conv (compression 0.5) + 2×2 average pooling, BN-ReLU, global average
    pooling, dense 10 (graphs/models/classifiers.go)."""
    inp = keras.Input((28, 28, 1))
    x = layers.Conv2D(24, 3, padding="same", use_bias=False)(inp)
    x = layers.AveragePooling2D(2)(x)
    for b in range(3):
        for _ in range(4):
            h = layers.ReLU()(layers.BatchNormalization()(x))
            h = layers.Conv2D(12, 3, padding="same", use_bias=False)(h)
            x = layers.Concatenate()([x, h])
        if b < 2:
            h = layers.BatchNormalization()(x)
            h = layers.Conv2D(x.shape[-1] // 2, 1, use_bias=False)(h)
            x = layers.AveragePooling2D(2)(h)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, layers.Dense(10)(x))
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = images(128, (28, 28, 1)), labels(128)
    return lambda: model.train_on_batch(x, y)


def squash(s, axis=-1):
    sq = tf.reduce_sum(tf.square(s), axis=axis, keepdims=True)
    return s * (sq / (1 + sq)) / tf.sqrt(sq + 1e-7)


class CapsNet(keras.Model):
    """Sabour et al. 2017 as graphs/models/capsnet.go builds it: conv 9×9 ReLU, primary capsules
    9×9/2 (types × 8-D, squashed), 10 digit capsules of 16-D by 3 routing iterations, decoder
    512-1024-784 on the label-masked capsules."""

    def __init__(self, conv1, types):
        super().__init__()
        self.types = types
        self.conv1 = layers.Conv2D(conv1, 9, activation="relu")
        self.primary = layers.Conv2D(types * 8, 9, strides=2)
        self.w = self.add_weight(shape=(36 * types, 10, 16, 8), initializer="glorot_uniform", name="digitcaps")
        self.decoder = [layers.Dense(512, activation="relu"), layers.Dense(1024, activation="relu"),
                        layers.Dense(784, activation="sigmoid")]

    def call(self, x, y):
        u = squash(tf.reshape(self.primary(self.conv1(x)), (-1, 36 * self.types, 8)))
        u_hat = tf.einsum("bip,ijdp->bijd", u, self.w)  # [batch, primary, 10, 16]
        b = tf.zeros(tf.shape(u_hat)[:3])
        for r in range(3):
            c = tf.nn.softmax(b, axis=2)
            v = squash(tf.reduce_sum(c[..., None] * u_hat, axis=1))  # [batch, 10, 16]
            if r < 2:
                b = b + tf.reduce_sum(u_hat * v[:, None], axis=-1)
        lengths = tf.sqrt(tf.reduce_sum(tf.square(v), -1) + 1e-7)
        h = tf.reshape(v * tf.one_hot(y, 10)[..., None], (-1, 160))
        for d in self.decoder:
            h = d(h)
        return lengths, h


def capsnet(conv1, types, batch=16):
    model = CapsNet(conv1, types)
    opt = keras.optimizers.Adam(1e-3)
    x, y = images(batch, (28, 28, 1)), labels(batch)
    model(x, y)  # builds the weights

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            lengths, recon = model(x, y)
            t = tf.one_hot(y, 10)
            margin = t * tf.square(tf.nn.relu(0.9 - lengths)) + 0.5 * (1 - t) * tf.square(tf.nn.relu(lengths - 0.1))
            loss = tf.reduce_mean(tf.reduce_sum(margin, -1)) + \
                0.0005 * tf.reduce_mean(tf.reduce_sum(tf.square(recon - tf.reshape(x, (-1, 784))), -1))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return lambda: step(x, y).numpy()


def timed(make):
    run = make()
    start = time.perf_counter()
    run()  # tracing, graph building and the first step
    first = time.perf_counter() - start
    steps, start = 0, time.perf_counter()
    while steps < 2 or time.perf_counter() - start < MIN_SECONDS:
        run()
        steps += 1
    return (time.perf_counter() - start) / steps, first


results = {}
for name, make in [("W1", w1), ("W2", w2), ("W3s", lambda: capsnet(64, 8)), ("W3", lambda: capsnet(256, 32)), ("W4", w4)]:
    try:
        secs, first = timed(make)
        results[name] = {COLUMN: secs, COLUMN + " first step": first}
    except Exception as e:  # a failure is a table cell, not a crash of the whole benchmark
        results[name] = {COLUMN: f"failed: {type(e).__name__}: {e}"[:200]}
    print(f"{name}: {results[name]}", file=sys.stderr)
print(json.dumps({"versions": {"tensorflow": tf.__version__, "keras": keras.__version__}, **results}))
