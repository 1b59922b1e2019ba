"""Seam removal: a Laplacian-pyramid blend, so fine detail switches sharply and light switches gradually
(no halo where the fan's skin meets the template's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np

if TYPE_CHECKING:
    import torch

    from swapengine.swap.colour import SkinModel

# Bounds of the template/fan shading ratio (lightness).
LIGHT_RATIO = (0.4, 2.5)


@dataclass
class Job:
    """One frame's geometry, ready for the light and blend stage (crop pixels, crop coordinates)."""

    box: tuple[int, int, int, int]
    face_w: float
    crop: np.ndarray
    base: np.ndarray  # the crop with the template's eyes moved into the fan's eye places
    map_x: np.ndarray
    map_y: np.ndarray
    alpha: np.ndarray  # where the fan's face shows, 0..1, before occluders
    hard: np.ndarray  # warped face pixels that count (bool)
    zone: np.ndarray  # bare-skin zone of the template face (bool): light and skin statistics
    region: np.ndarray  # pixels the swap may change (bool)
    keep: np.ndarray | None = None  # 0..1: glasses frames and hands found in front (template pixel shows)


class BatchSwapper(Protocol):
    """What the batched (torch) finish needs of the swapper: its texture and its running colour state."""

    keep_occluders: bool

    def texture_tensor(self, device: torch.device) -> torch.Tensor: ...

    def follow_skin(self, model: SkinModel | None) -> SkinModel | None: ...

    def follow_mean(self, mean: np.ndarray) -> np.ndarray: ...


def pyramid_levels(face_w: float) -> int:
    return int(np.clip(np.log2(face_w / 24.0), 1, 5))


def multiband(a: np.ndarray, b: np.ndarray, mask: np.ndarray, levels: int) -> np.ndarray:
    """Blend float images a over b with a 0..1 mask, band by band."""
    ga, gb, gm = [a], [b], [mask]
    for _ in range(levels):
        ga.append(cv2.pyrDown(ga[-1]))
        gb.append(cv2.pyrDown(gb[-1]))
        gm.append(cv2.pyrDown(gm[-1]))
    out = ga[-1] * gm[-1][..., None] + gb[-1] * (1 - gm[-1][..., None])
    for i in range(levels - 1, -1, -1):
        size = (ga[i].shape[1], ga[i].shape[0])
        la = ga[i] - cv2.pyrUp(ga[i + 1], dstsize=size)
        lb = gb[i] - cv2.pyrUp(gb[i + 1], dstsize=size)
        m = gm[i][..., None]
        out = cv2.pyrUp(out, dstsize=size) + la * m + lb * (1 - m)
    return out


def feathered(mask: np.ndarray, erode_px: int, sigma: float) -> np.ndarray:
    """0..1 float mask pulled inside a uint8 mask by erode_px and softened, so it is 0 on the edge."""
    if erode_px > 0:
        mask = cv2.erode(mask, np.ones((2 * erode_px + 1, 2 * erode_px + 1), np.uint8))
    return cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(sigma, 0.5))


# --- torch: the light and blend stage for a whole batch, on the swapper's device ----------------------


def _pyr_down(x: torch.Tensor) -> torch.Tensor:
    import torch
    import torch.nn.functional as F

    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], dtype=x.dtype, device=x.device) / 16
    c = x.shape[1]
    x = F.pad(x, (2, 2, 2, 2), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, 5).expand(c, 1, 1, 5), groups=c)
    return F.conv2d(x, k.view(1, 1, 5, 1).expand(c, 1, 5, 1), groups=c, stride=2)[..., :, ::2]


def _pyr_up(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    import torch.nn.functional as F

    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def multiband_t(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor, levels: int) -> torch.Tensor:
    """Batched `multiband` for (B, C, H, W) tensors and a (B, 1, H, W) mask."""
    ga, gb, gm = [a], [b], [mask]
    for _ in range(levels):
        ga.append(_pyr_down(ga[-1]))
        gb.append(_pyr_down(gb[-1]))
        gm.append(_pyr_down(gm[-1]))
    out = ga[-1] * gm[-1] + gb[-1] * (1 - gm[-1])
    for i in range(levels - 1, -1, -1):
        size = (ga[i].shape[-2], ga[i].shape[-1])
        la = ga[i] - _pyr_up(ga[i + 1], size)
        lb = gb[i] - _pyr_up(gb[i + 1], size)
        out = _pyr_up(out, size) + la * gm[i] + lb * (1 - gm[i])
    return out


def _keep(job: Job) -> np.ndarray:
    return job.keep if job.keep is not None else np.zeros(job.alpha.shape, np.float32)


def _stack(arrays: list[np.ndarray], h: int, w: int, device: torch.device) -> torch.Tensor:
    """Crops of different sizes, zero padded to (h, w), as one float (B, C, h, w) tensor."""
    import torch

    first = arrays[0]
    channels = first.shape[2] if first.ndim == 3 else 1
    out = np.zeros((len(arrays), h, w, channels), np.float32)
    for i, arr in enumerate(arrays):
        out[i, : arr.shape[0], : arr.shape[1]] = arr.reshape(arr.shape[0], arr.shape[1], channels)
    return torch.from_numpy(out).to(device).permute(0, 3, 1, 2)


def finish_batch(swapper: BatchSwapper, jobs: list[Job], device: str) -> list[np.ndarray]:
    """Warp (grid_sample), light and blend every job of a batch at once; returns the changed crops."""
    import torch
    import torch.nn.functional as F

    from swapengine.swap.colour import (
        HUE_LIMIT,
        MIN_SKIN_PX,
        OFF_HUE_LIGHT,
        SkinModel,
        bgr_from_lab,
        gaussian_blur,
        lab_from_bgr,
        low_frequency_t,
    )

    dev = torch.device(device)
    face_w = float(np.mean([j.face_w for j in jobs]))
    levels = pyramid_levels(face_w)
    h = max(j.crop.shape[0] for j in jobs)
    w = max(j.crop.shape[1] for j in jobs)
    with torch.no_grad():
        crop = _stack([j.crop for j in jobs], h, w, dev)
        base = _stack([j.base for j in jobs], h, w, dev)
        masks = _stack([np.stack([j.alpha, j.hard, j.zone, j.region, _keep(j)], axis=2).astype(np.float32)
                        for j in jobs], h, w, dev)
        alpha, hard, zone, region = masks[:, 0:1], masks[:, 1:2], masks[:, 2:3], masks[:, 3:4]
        keep = masks[:, 4:5]
        tex = swapper.texture_tensor(dev)
        th, tw = tex.shape[-2:]
        maps = _stack([np.stack([j.map_x / max(tw - 1, 1), j.map_y / max(th - 1, 1)], axis=2) for j in jobs],
                      h, w, dev)
        grid = (maps * 2 - 1).permute(0, 2, 3, 1)
        warped = F.grid_sample(tex.expand(len(jobs), -1, -1, -1), grid, mode="bilinear", padding_mode="border",
                               align_corners=True)
        lab_t, lab_w = lab_from_bgr(crop), lab_from_bgr(warped)
        low = low_frequency_t(torch.cat([lab_t, lab_w], 1), zone, face_w)
        low_t, low_w = low[:, :3], low[:, 3:]
        occluder = torch.zeros_like(zone)
        if swapper.keep_occluders:
            centre, spread = [], []
            for i in range(len(jobs)):
                px = lab_t[i][:, zone[i, 0] > 0.5]
                measured = None
                if px.shape[1] >= MIN_SKIN_PX:
                    med = px.median(dim=1).values
                    mad = (px - med[:, None]).abs().median(dim=1).values
                    measured = SkinModel.robust(med.cpu().numpy(), mad.cpu().numpy())
                skin = swapper.follow_skin(measured)
                centre.append(skin.centre.copy() if skin else np.zeros(3, np.float32))
                spread.append(skin.spread.copy() if skin else np.full(3, 1e6, np.float32))
            c = torch.from_numpy(np.stack(centre)).to(dev).view(-1, 3, 1, 1)
            sd = torch.from_numpy(np.stack(spread)).to(dev).view(-1, 3, 1, 1)
            hue = (lab_t[:, 1:] - c[:, 1:]) / sd[:, 1:]
            skin_hued = (hue * hue).sum(1, keepdim=True) < HUE_LIMIT * HUE_LIMIT
            hued = skin_hued.to(zone.dtype) * zone
            enough = hued.sum((1, 2, 3), keepdim=True) >= MIN_SKIN_PX
            skin_shade = low_frequency_t(lab_t[:, :1], hued, face_w)
            d_l = (lab_t[:, :1] - low_t[:, :1]) / (2.5 * sd[:, :1])
            d_l = torch.where(enough & ~skin_hued, (lab_t[:, :1] - skin_shade) / (OFF_HUE_LIGHT * sd[:, :1]), d_l)
            d = torch.cat([d_l, hue], 1)
            t = ((d.norm(dim=1, keepdim=True) - 4.0) / 3.0).clamp(0, 1)
            foreign = t * t * (3 - 2 * t) * zone
            k = max(int(face_w * 0.02), 1) * 2 + 1
            opened = F.max_pool2d(-F.max_pool2d(-foreign, k, 1, k // 2), k, 1, k // 2)
            occluder = (gaussian_blur(opened, face_w * 0.01 + 0.5) * 1.5).clamp(0, 1)
        occluder = torch.maximum(occluder, keep)
        inside = (zone * (1 - occluder) > 0.5).to(lab_t.dtype)
        means = ((lab_t * inside).sum((2, 3)) / inside.sum((2, 3)).clamp(min=1)).cpu().numpy()
        shift = np.stack([swapper.follow_mean(m) if n > 0 else np.zeros(3, np.float32)
                          for m, n in zip(means, inside.sum((1, 2, 3)).cpu().numpy(), strict=True)])
        low_t = low_t + torch.from_numpy(shift).to(dev).view(-1, 3, 1, 1)
        ratio = (low_t[:, :1] / low_w[:, :1].clamp(min=1.0)).clamp(*LIGHT_RATIO)
        lab = torch.cat([lab_w[:, :1] * ratio, lab_w[:, 1:] + low_t[:, 1:] - low_w[:, 1:]], 1).clamp(0, 255)
        coloured = bgr_from_lab(lab)
        fan = torch.where(hard > 0.5, coloured, base)
        blended = multiband_t(fan, base, alpha * (1 - occluder), levels)
        blended = blended.clamp(0, 255) * (1 - keep) + crop * keep
        out = torch.where(region > 0.5, blended, crop).round().to(torch.uint8)
        result = out.permute(0, 2, 3, 1).cpu().numpy()
    return [result[i, : j.crop.shape[0], : j.crop.shape[1]] for i, j in enumerate(jobs)]
