"""Peers of mnistzip's paper-size CapsNet training step on a GPU, run on the same machine in the same
session as `mnistzip train` (native/gpu/peers.sh): the network of graphs/models/capsnet.go (conv 9×9×256
ReLU, primary capsules 9×9/2 of 32 types × 8-D squashed, 10 digit capsules of 16-D by 3 routing
iterations, decoder 512-1024-784 on the label-masked capsules, margin loss + 0.0005 × summed squared
reconstruction error), Adam(1e-3), batch 128, on random inputs:

  torch          PyTorch eager, TF32 matrix products allowed (convolutions use TF32 by default)
  torch-compile  the same, torch.compile'd (Inductor/Triton)
  jax            JAX, the whole step jit-compiled by XLA (the compiler mnistzip's XLA backend uses)

    python3 capsnet_gpu_peers.py PEER [MIN_SECONDS]

Prints one JSON line: peer, versions, seconds per step (steady), images/s, seconds to the first step.
"""
import json
import sys
import time

PEER = sys.argv[1]
MIN_SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
BATCH, TYPES, PRIMARY = 128, 32, 32 * 36


def timed(step, sync):
    start = time.perf_counter()
    sync(step())  # tracing, compilation and the first step
    first = time.perf_counter() - start
    for _ in range(10):  # warm-up: autotuning, allocator growth
        step()
    sync(step())
    steps, start = 0, time.perf_counter()
    while steps < 20 or time.perf_counter() - start < MIN_SECONDS:
        out = step()
        steps += 1
    sync(out)
    secs = (time.perf_counter() - start) / steps
    return {"seconds_per_step": secs, "images_per_second": BATCH / secs, "seconds_to_first_step": first}


def torch_peer(compiled):
    import torch
    import torch.nn.functional as F
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")

    def squash(s):
        sq = (s * s).sum(-1, keepdim=True)
        return s * (sq / (1 + sq)) / torch.sqrt(sq + 1e-7)

    class CapsNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 256, 9)
            self.primary = torch.nn.Conv2d(256, TYPES * 8, 9, stride=2)
            self.w = torch.nn.Parameter(0.01 * torch.randn(PRIMARY, 10, 16, 8))
            self.decoder = torch.nn.Sequential(torch.nn.Linear(160, 512), torch.nn.ReLU(), torch.nn.Linear(512, 1024),
                                               torch.nn.ReLU(), torch.nn.Linear(1024, 784), torch.nn.Sigmoid())

        def forward(self, x, y):
            h = self.primary(F.relu(self.conv1(x)))                      # [b, 256, 6, 6]
            u = squash(h.permute(0, 2, 3, 1).reshape(-1, PRIMARY, 8))     # capsules as mnistzip groups them
            u_hat = torch.einsum("bip,ijdp->bijd", u, self.w)             # [b, 1152, 10, 16]
            b = torch.zeros(u_hat.shape[:3], device=x.device)
            for r in range(3):
                c = torch.softmax(b, dim=2)
                v = squash((c.unsqueeze(-1) * u_hat).sum(1))              # [b, 10, 16]
                if r < 2:
                    b = b + (u_hat * v.unsqueeze(1)).sum(-1)
            lengths = torch.sqrt((v * v).sum(-1) + 1e-7)
            t = F.one_hot(y, 10).float()
            recon = self.decoder((v * t.unsqueeze(-1)).reshape(-1, 160))
            margin = t * F.relu(0.9 - lengths) ** 2 + 0.5 * (1 - t) * F.relu(lengths - 0.1) ** 2
            return margin.sum(-1).mean() + 0.0005 * ((recon - x.reshape(-1, 784)) ** 2).sum(-1).mean()

    model = CapsNet().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(BATCH, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (BATCH,), device=dev)
    loss_fn = torch.compile(model) if compiled else model

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(x, y)
        loss.backward()
        opt.step()
        return loss

    # .item() waits for the step, as mnistzip's loop reads each step's loss.
    res = timed(lambda: step().item(), lambda _: torch.cuda.synchronize())
    res["versions"] = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": torch.cuda.get_device_name()}
    return res


def jax_peer():
    import jax
    import jax.numpy as jnp
    import optax

    def squash(s):
        sq = jnp.sum(s * s, -1, keepdims=True)
        return s * (sq / (1 + sq)) / jnp.sqrt(sq + 1e-7)

    def dense(key, n_in, n_out):
        return {"w": jax.random.normal(key, (n_in, n_out)) * (2 / n_in) ** 0.5, "b": jnp.zeros(n_out)}

    keys = jax.random.split(jax.random.PRNGKey(1), 6)
    params = {
        "conv1": {"w": jax.random.normal(keys[0], (9, 9, 1, 256)) * 0.1, "b": jnp.zeros(256)},
        "primary": {"w": jax.random.normal(keys[1], (9, 9, 256, TYPES * 8)) * 0.01, "b": jnp.zeros(TYPES * 8)},
        "digitcaps": jax.random.normal(keys[2], (PRIMARY, 10, 16, 8)) * 0.01,
        "d1": dense(keys[3], 160, 512), "d2": dense(keys[4], 512, 1024), "d3": dense(keys[5], 1024, 784),
    }

    def conv(x, p, stride):
        y = jax.lax.conv_general_dilated(x, p["w"], (stride, stride), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return y + p["b"]

    def loss_fn(params, x, y):
        h = conv(jax.nn.relu(conv(x, params["conv1"], 1)), params["primary"], 2)  # [b, 6, 6, 256]
        u = squash(h.reshape(-1, PRIMARY, 8))
        u_hat = jnp.einsum("bip,ijdp->bijd", u, params["digitcaps"])
        b = jnp.zeros(u_hat.shape[:3])
        for r in range(3):
            c = jax.nn.softmax(b, axis=2)
            v = squash(jnp.sum(c[..., None] * u_hat, 1))
            if r < 2:
                b = b + jnp.sum(u_hat * v[:, None], -1)
        lengths = jnp.sqrt(jnp.sum(v * v, -1) + 1e-7)
        t = jax.nn.one_hot(y, 10)
        h = (v * t[..., None]).reshape(-1, 160)
        h = jax.nn.relu(h @ params["d1"]["w"] + params["d1"]["b"])
        h = jax.nn.relu(h @ params["d2"]["w"] + params["d2"]["b"])
        recon = jax.nn.sigmoid(h @ params["d3"]["w"] + params["d3"]["b"])
        margin = t * jax.nn.relu(0.9 - lengths) ** 2 + 0.5 * (1 - t) * jax.nn.relu(lengths - 0.1) ** 2
        return jnp.mean(jnp.sum(margin, -1)) + 0.0005 * jnp.mean(jnp.sum((recon - x.reshape(-1, 784)) ** 2, -1))

    opt = optax.adam(1e-3)
    state = {"params": params, "opt": opt.init(params)}

    @jax.jit
    def train_step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    rng = jax.random.PRNGKey(2)
    x = jax.random.uniform(rng, (BATCH, 28, 28, 1))
    y = jax.random.randint(rng, (BATCH,), 0, 10)

    def step():
        state["params"], state["opt"], loss = train_step(state["params"], state["opt"], x, y)
        return float(loss)  # waits for the step, as mnistzip's loop reads each step's loss

    res = timed(step, lambda _: None)
    res["versions"] = {"jax": jax.__version__, "device": str(jax.devices()[0])}
    return res


try:
    result = {"torch": lambda: torch_peer(False), "torch-compile": lambda: torch_peer(True), "jax": jax_peer}[PEER]()
except Exception as e:  # a failure is a table cell, not a crash of the whole run
    result = {"error": f"{type(e).__name__}: {e}"[:300]}
print(json.dumps({"peer": PEER, **result}))
