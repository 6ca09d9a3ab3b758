#!/usr/bin/env python3
"""The peer of `daqyolo bench train` / `bench infer`: the same YOLOv3 (or YOLOv3-tiny) network
(keras-yolo3 topology, as src/model/yolo.ts builds it) trained or run with PyTorch at its best
CPU setting (channels_last model and input, Adam), same loss (sum of squared head outputs), on
random data or the raw float32 images [batch, 1, size, size] of --images. Prints one JSON object.

Run with Debian's python3-torch: /usr/bin/python3 bench/peer_yolov3.py --width 0.25 --size 480 ...
--expect-params N makes it fail unless the network has exactly N parameters (the same network).
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn


def scaled(c, w):
    # As src/model/yolo.ts: JavaScript Math.round (half up), at least 1.
    return max(1, int(math.floor(c * w + 0.5)))


class ConvBNLeaky(nn.Sequential):
    def __init__(self, cin, cout, k, stride=1, m=0.01):
        layers = []
        if stride == 2:
            layers.append(nn.ZeroPad2d((1, 0, 1, 0)))  # keras-yolo3: pad left/top before stride 2
        layers += [nn.Conv2d(cin, cout, k, stride, k // 2 if stride == 1 else 0, bias=False),
                   nn.BatchNorm2d(cout, eps=1e-3, momentum=m), nn.LeakyReLU(0.1)]
        super().__init__(*layers)


class Residual(nn.Module):
    def __init__(self, c, m):
        super().__init__()
        h = max(1, c // 2)
        self.body = nn.Sequential(ConvBNLeaky(c, h, 1, 1, m), ConvBNLeaky(h, c, 3, 1, m))

    def forward(self, x):
        return x + self.body(x)


class Darknet53(nn.Module):
    def __init__(self, cin, w, m):
        super().__init__()
        self.stem = ConvBNLeaky(cin, scaled(32, w), 3, 1, m)
        self.stages = nn.ModuleList()
        self.channels = []
        prev = scaled(32, w)
        for filters, blocks in [(64, 1), (128, 2), (256, 8), (512, 8), (1024, 4)]:
            c = scaled(filters, w)
            s = nn.Sequential(ConvBNLeaky(prev, c, 3, 2, m), *[Residual(c, m) for _ in range(blocks)])
            self.stages.append(s)
            self.channels.append(c)
            prev = c

    def forward(self, x):
        x = self.stem(x)
        outs = []
        for i, s in enumerate(self.stages):
            x = s(x)
            if i >= 2:
                outs.append(x)
        return outs


class Head(nn.Module):
    def __init__(self, cin, nf, out, m):
        super().__init__()
        self.trunk = nn.Sequential(ConvBNLeaky(cin, nf, 1, 1, m), ConvBNLeaky(nf, nf * 2, 3, 1, m), ConvBNLeaky(nf * 2, nf, 1, 1, m),
                                   ConvBNLeaky(nf, nf * 2, 3, 1, m), ConvBNLeaky(nf * 2, nf, 1, 1, m))
        self.out = nn.Sequential(ConvBNLeaky(nf, nf * 2, 3, 1, m), nn.Conv2d(nf * 2, out, 1))


class YoloV3(nn.Module):
    def __init__(self, in_channels=1, num_classes=1, anchors=3, width=1.0, m=0.01):
        super().__init__()
        c = lambda n: scaled(n, width)
        out = anchors * (5 + num_classes)
        self.backbone = Darknet53(in_channels, width, m)
        c8, c16, c32 = self.backbone.channels[2:]
        self.head1 = Head(c32, c(512), out, m)
        self.up1 = nn.Sequential(ConvBNLeaky(c(512), c(256), 1, 1, m), nn.Upsample(scale_factor=2, mode='nearest'))
        self.head2 = Head(c(256) + c16, c(256), out, m)
        self.up2 = nn.Sequential(ConvBNLeaky(c(256), c(128), 1, 1, m), nn.Upsample(scale_factor=2, mode='nearest'))
        self.head3 = Head(c(128) + c8, c(128), out, m)

    def forward(self, x):
        f8, f16, f32 = self.backbone(x)
        t = self.head1.trunk(f32)
        y1 = self.head1.out(t)
        t = self.head2.trunk(torch.cat([self.up1(t), f16], 1))
        y2 = self.head2.out(t)
        t = self.head3.trunk(torch.cat([self.up2(t), f8], 1))
        y3 = self.head3.out(t)
        return [y1, y2, y3]


class SamePool(nn.Module):
    # keras 'same' 2×2 stride-1 max pooling: replicate the right/bottom edge.
    def forward(self, x):
        return nn.functional.max_pool2d(nn.functional.pad(x, (0, 1, 0, 1), mode='replicate'), 2, 1)


class YoloV3Tiny(nn.Module):
    def __init__(self, in_channels=1, num_classes=1, anchors=3, width=1.0, m=0.01):
        super().__init__()
        c = lambda n: scaled(n, width)
        out = anchors * (5 + num_classes)
        conv = lambda a, b, k: ConvBNLeaky(a, b, k, 1, m)
        pool = lambda: nn.MaxPool2d(2, 2)
        self.trunk1 = nn.Sequential(conv(in_channels, c(16), 3), pool(), conv(c(16), c(32), 3), pool(), conv(c(32), c(64), 3), pool(),
                                    conv(c(64), c(128), 3), pool(), conv(c(128), c(256), 3))
        self.trunk2 = nn.Sequential(pool(), conv(c(256), c(512), 3), SamePool(), conv(c(512), c(1024), 3), conv(c(1024), c(256), 1))
        self.out1 = nn.Sequential(conv(c(256), c(512), 3), nn.Conv2d(c(512), out, 1))
        self.up = nn.Sequential(conv(c(256), c(128), 1), nn.Upsample(scale_factor=2, mode='nearest'))
        self.out2 = nn.Sequential(conv(c(128) + c(256), c(256), 3), nn.Conv2d(c(256), out, 1))

    def forward(self, x):
        x1 = self.trunk1(x)
        x2 = self.trunk2(x1)
        return [self.out1(x2), self.out2(torch.cat([self.up(x2), x1], 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--width', type=float, default=0.25)
    ap.add_argument('--size', type=int, default=480)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--nchw', action='store_true', help='keep NCHW (default: channels_last, the fast path)')
    ap.add_argument('--expect-params', type=int)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--variant', choices=['yolov3', 'yolov3-tiny'], default='yolov3')
    ap.add_argument('--mode', choices=['train', 'infer'], default='train')
    ap.add_argument('--images', help='raw float32 [batch, 1, size, size] input (default: random normal)')
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = (YoloV3 if a.variant == 'yolov3' else YoloV3Tiny)(width=a.width)
    params = sum(p.numel() for p in model.parameters())
    if a.expect_params is not None and params != a.expect_params:
        raise SystemExit(f'peer network has {params} parameters, daqyolo has {a.expect_params}: not the same network')
    fmt = torch.contiguous_format if a.nchw else torch.channels_last
    model = model.to(memory_format=fmt).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    if a.images:
        with open(a.images, 'rb') as f:
            x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(a.batch, 1, a.size, a.size)
    else:
        x = torch.randn(a.batch, 1, a.size, a.size)
    x = x.contiguous(memory_format=fmt)
    active = float((x != 0).sum()) / a.batch
    if a.mode == 'infer':
        model.eval()
        with torch.inference_mode():
            for _ in range(a.warmup):
                model(x)
            times, cpu = [], []
            for _ in range(a.steps):
                t0, c0 = time.perf_counter(), time.process_time()
                model(x)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        ms = sum(times) / len(times)
        print(json.dumps({
            'engine': 'pytorch', 'torch': torch.__version__, 'variant': a.variant, 'mode': 'infer', 'width': a.width, 'size': a.size,
            'batch': a.batch, 'iters': a.steps, 'threads': torch.get_num_threads(), 'params': params,
            'ms_per_batch': round(ms, 2), 'batch_ms': [round(t, 2) for t in times], 'batch_cpu_ms': [round(t, 2) for t in cpu], 'img_per_s': round(1000 * a.batch / ms, 2),
            'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), 'active_pixels_per_image': active,
        }))
        return

    def step():
        opt.zero_grad(set_to_none=True)
        loss = sum((y * y).sum() for y in model(x))
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times, cpu = [], []
    last = float('nan')
    for _ in range(a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        last = step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    ms = sum(times) / len(times)
    print(json.dumps({
        'engine': 'pytorch', 'torch': torch.__version__, 'variant': a.variant, 'mode': 'train', 'width': a.width, 'size': a.size, 'batch': a.batch, 'steps': a.steps,
        'threads': torch.get_num_threads(), 'channels_last': not a.nchw, 'params': params,
        'ms_per_step': round(ms, 1), 'step_ms': [round(t, 1) for t in times], 'step_cpu_ms': [round(t, 1) for t in cpu], 'img_per_s': round(1000 * a.batch / ms, 2),
        'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), 'active_pixels_per_image': active,
        'final_loss': last,
    }))


if __name__ == '__main__':
    main()
