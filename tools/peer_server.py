#!/usr/bin/env python3
"""The peer server for inferd's GPU serving benchmark: what a PyTorch user would write with the
packages of the GPU machine (aiohttp, torchvision's GPU JPEG decode, a torch.compile'd model, a
simple batching loop), answering POST /classify with the JPEG body like inferd does: a JSON list
of the top-5 {"confidence", "label"}.

Usage: python3 tools/peer_server.py [--model resnet50] [--port 18500] [--labels FILE]
                                    [--max-batch 64] [--max-delay-ms 2] [--no-compile]
Random weights (torchvision's initialisation under a fixed seed: the GPU machine has no
internet), fp16, channels_last; preprocessing as torchvision's ImageNet recipe: decode on the
GPU, resize the shorter side to 256 (antialiased), centre crop 224, mean/std. GET /ready
answers 200 once the model is compiled for every batch size it will see (the batch sizes are
padded to powers of two, so torch.compile compiles a few shapes, once, before serving).
Needs torch, torchvision and aiohttp (the GPU machine has them; this machine does not).
"""
import argparse
import asyncio
import concurrent.futures
import json
import sys

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def batch_sizes(max_batch):
    sizes, b = [], 1
    while b < max_batch:
        sizes.append(b)
        b *= 2
    return sizes + [max_batch]


class Classifier:
    """Decode + preprocess + model on the GPU for a list of JPEG byte strings."""

    def __init__(self, args):
        import torch
        import torchvision
        import torchvision.io
        from torchvision.transforms.v2 import functional
        torch.manual_seed(2024)
        self.torch, self.tv, self.F = torch, torchvision, functional
        net = getattr(torchvision.models, args.model)(weights=None).eval().cuda().half()
        self.net = net.to(memory_format=torch.channels_last)
        if not args.no_compile:
            self.net = torch.compile(self.net, mode="reduce-overhead")
        self.sizes = batch_sizes(args.max_batch)
        self.mean = torch.tensor(MEAN, device="cuda").view(1, 3, 1, 1) * 255
        self.std = torch.tensor(STD, device="cuda").view(1, 3, 1, 1) * 255
        self.labels = [l.rstrip("\n") for l in open(args.labels)] if args.labels else None

    def warm_up(self):
        x = self.torch.zeros(1, 3, 224, 224, device="cuda").half()
        with self.torch.inference_mode():
            for b in self.sizes:
                for _ in range(3):
                    self.net(x.expand(b, -1, -1, -1).contiguous(memory_format=self.torch.channels_last))
        self.torch.cuda.synchronize()

    def preprocess(self, images):
        crops = []
        for img in images:  # decoded CHW uint8 on the GPU; antialiased resizing wants floats there
            img = self.F.resize(img.float(), 256, antialias=True)
            crops.append(self.F.center_crop(img, 224))
        x = (self.torch.stack(crops) - self.mean) / self.std  # float32, then the model's fp16
        return x.half().contiguous(memory_format=self.torch.channels_last)

    def classify(self, bodies):
        """Top-5 per body, or an error string for a body that does not decode."""
        torch, io = self.torch, self.tv.io
        results, good, datas = [None] * len(bodies), [], []
        for i, body in enumerate(bodies):
            data = torch.frombuffer(bytearray(body), dtype=torch.uint8) if body else None
            if data is None:
                results[i] = "empty body"
                continue
            good.append(i)
            datas.append(data)
        with torch.inference_mode():
            decoded = []
            try:
                decoded = io.decode_jpeg(datas, device="cuda", mode=io.ImageReadMode.RGB) if datas else []
            except RuntimeError:  # one bad image fails the batch call: decode one by one
                keep, decoded = [], []
                for i, d in zip(good, datas):
                    try:
                        decoded.append(io.decode_jpeg(d, device="cuda", mode=io.ImageReadMode.RGB))
                        keep.append(i)
                    except RuntimeError as e:
                        results[i] = f"cannot decode the image: {e}"
                good = keep
            if decoded:
                x = self.preprocess(decoded)
                n = x.shape[0]
                size = next(b for b in self.sizes if b >= n)
                if size > n:
                    x = torch.cat([x, x[:1].expand(size - n, -1, -1, -1)]).contiguous(memory_format=torch.channels_last)
                probs = torch.softmax(self.net(x)[:n].float(), dim=1)
                top = torch.topk(probs, 5, dim=1)
                values, indices = top.values.cpu().tolist(), top.indices.cpu().tolist()
                for row, i in enumerate(good):
                    results[i] = [{"confidence": round(v, 4), "label": self.label(k)}
                                  for v, k in zip(values[row], indices[row])]
        return results

    def label(self, k):
        return self.labels[k] if self.labels and k < len(self.labels) else str(k)


async def batching_loop(queue, classifier, max_batch, max_delay, gpu_thread):
    """Takes what is queued (at most max_batch, waiting max_delay for company once the first
    request is there) and runs it on the GPU thread, so the event loop keeps accepting requests.
    One thread for all GPU work: torch.compile's CUDA graphs are recorded per thread."""
    loop = asyncio.get_running_loop()
    while True:
        items = [await queue.get()]
        deadline = loop.time() + max_delay
        while len(items) < max_batch:
            timeout = deadline - loop.time()
            if timeout <= 0:
                break
            try:
                items.append(await asyncio.wait_for(queue.get(), timeout))
            except asyncio.TimeoutError:
                break
        try:
            results = await loop.run_in_executor(gpu_thread, classifier.classify, [body for body, _ in items])
        except Exception as e:  # a failed batch answers every request in it
            print(f"peer_server: batch failed: {e!r}", file=sys.stderr, flush=True)
            results = [f"inference failed: {e}"] * len(items)
        for (_, future), result in zip(items, results):
            if not future.done():
                future.set_result(result)


def make_app(args, classifier, gpu_thread):
    from aiohttp import web
    queue = asyncio.Queue(maxsize=4096)

    async def classify(request):
        body = await request.read()
        future = asyncio.get_running_loop().create_future()
        try:
            queue.put_nowait((body, future))
        except asyncio.QueueFull:
            return web.json_response({"error": "queue full"}, status=503)
        result = await future
        if isinstance(result, str):
            return web.json_response({"error": result}, status=400)
        return web.Response(text=json.dumps(result, separators=(",", ":")), content_type="application/json")

    async def ready(_):
        return web.json_response({"ready": True})

    async def start_loop(app):
        app["batcher"] = asyncio.create_task(
            batching_loop(queue, classifier, args.max_batch, args.max_delay_ms / 1e3, gpu_thread))

    app = web.Application(client_max_size=16 << 20)
    app.router.add_post("/classify", classify)
    app.router.add_get("/ready", ready)
    app.on_startup.append(start_loop)
    return app


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="resnet50")
    p.add_argument("--port", type=int, default=18500)
    p.add_argument("--labels", default="")
    p.add_argument("--max-batch", type=int, default=64)
    p.add_argument("--max-delay-ms", type=float, default=2.0)
    p.add_argument("--no-compile", action="store_true")
    args = p.parse_args()
    gpu_thread = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    classifier = gpu_thread.submit(Classifier, args).result()
    gpu_thread.submit(classifier.warm_up).result()
    from aiohttp import web
    web.run_app(make_app(args, classifier, gpu_thread), host="127.0.0.1", port=args.port, print=None,
                access_log=None)


if __name__ == "__main__":
    main()
