/**
 * Generates every fixture in this folder, deterministically, in the real formats:
 *
 *   deno run -A tests/datasets/testdata/make_fixtures.ts      # rewrites tests/datasets/testdata/
 *
 * - `idx/`      tiny MNIST-style IDX files (28×28) and broken variants
 * - `cifar/`    broken CIFAR binaries
 * - `mat/`      SVHN-style MATLAB v5 files (compressed, uncompressed, big-endian) and broken variants
 * - `images/`   single PNG/JPEG files (RGB, 1-bit, palette, 16-bit, RGBA, odd sizes) and broken ones
 * - `fashion/`  Fashion-MNIST-style class JSON files, valid and broken
 * - `root/`     a miniature data root laid out as `deno task data` installs it (all downloadable sets)
 * - `archives/` what the loopback server in download_test.ts serves: good archives and hostile/corrupt ones
 *
 * `tests/datasets/fixtures_test.ts` re-runs `generateFixtures` into a temporary folder and checks that the
 * committed files are byte-identical, so this script is the single source of truth for them.
 * @module
 */
import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import { deflateSync as fflateDeflate, gzipSync as fflateGzip, zlibSync } from "fflate";
import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { Rng } from "../../../lib/data/rng.ts";
import { crc32 } from "../../../lib/datasets/archive.ts";
import { concatBytes as concat } from "../../../lib/io/bytes.ts";

// ----------------------------------------------------------------------------------------------- writers

// fflate (a pinned, pure-JS version) rather than node:zlib, so the bytes do not change with the Deno version.
const gzipSync = (d: Uint8Array) => fflateGzip(d, { level: 6, mtime: 0 });
const deflateRawSync = (d: Uint8Array) => fflateDeflate(d, { level: 6 });
const deflateSync = (d: Uint8Array) => zlibSync(d, { level: 6 });

const enc = new TextEncoder();


function u32be(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, false);
  return b;
}

/** IDX: magic 00 00 <type> <ndim>, big-endian dims, data. */
function idx(dims: number[], data: Uint8Array, type = 0x08): Uint8Array {
  return concat([new Uint8Array([0, 0, type, dims.length]), ...dims.map(u32be), data]);
}

interface TarEntry {
  name: string;
  type?: "0" | "5" | "2" | "1" | "3" | "6";
  data?: Uint8Array;
  linkname?: string;
  /** Write the path in a pax extended header instead of the ustar name field. */
  pax?: boolean;
}

function tarHeader(name: string, type: string, size: number, linkname = ""): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, off: number, len: number) => h.set(enc.encode(s).subarray(0, len), off);
  put(name, 0, 100);
  put(type === "5" ? "0000755\0" : "0000644\0", 100, 8);
  put("0000000\0", 108, 8);
  put("0000000\0", 116, 8);
  put(size.toString(8).padStart(11, "0") + "\0", 124, 12);
  put("00000000000\0", 136, 12);
  put(type, 156, 1);
  put(linkname, 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return h;
}

function padBlock(data: Uint8Array): Uint8Array {
  const pad = (512 - (data.length % 512)) % 512;
  return concat([data, new Uint8Array(pad)]);
}

function tar(entries: TarEntry[], opts: { endMarker?: boolean } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const data = e.data ?? new Uint8Array(0);
    const type = e.type ?? "0";
    let name = e.name;
    if (e.pax) {
      const rec = (k: string, v: string) => {
        const body = ` ${k}=${v}\n`;
        let len = body.length + 1;
        while (String(len).length + body.length !== len) len = String(len).length + body.length;
        return `${len}${body}`;
      };
      const paxData = enc.encode(rec("path", e.name));
      parts.push(tarHeader("PaxHeader/x", "x", paxData.length), padBlock(paxData));
      name = "placeholder-name";
    }
    parts.push(tarHeader(name, type, type === "0" ? data.length : 0, e.linkname ?? ""));
    if (type === "0") parts.push(padBlock(data));
  }
  if (opts.endMarker ?? true) parts.push(new Uint8Array(1024));
  return concat(parts);
}

interface ZipEntry {
  name: string;
  data?: Uint8Array;
  /** Unix mode (file type bits included) stored in the external attributes. */
  mode?: number;
  deflate?: boolean;
}

function zip(entries: ZipEntry[], opts: { corruptCrcOf?: string } = {}): Uint8Array {
  const locals: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = e.data ?? new Uint8Array(0);
    const comp = e.deflate ? new Uint8Array(deflateRawSync(data)) : data;
    const name = enc.encode(e.name);
    let crc = crc32(data);
    if (opts.corruptCrcOf === e.name) crc = (crc ^ 0xdeadbeef) >>> 0;
    const lh = new Uint8Array(30);
    const lv = new DataView(lh.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, e.deflate ? 8 : 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, comp.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, name.length, true);
    locals.push(lh, name, comp);
    const ch = new Uint8Array(46);
    const cv = new DataView(ch.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, (3 << 8) | 20, true); // made by: Unix, 2.0
    cv.setUint16(6, 20, true);
    cv.setUint16(10, e.deflate ? 8 : 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, comp.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, name.length, true);
    const mode = e.mode ?? (e.name.endsWith("/") ? 0o040755 : 0o100644);
    cv.setUint32(38, (mode << 16) >>> 0, true);
    cv.setUint32(42, offset, true);
    central.push(ch, name);
    offset += 30 + name.length + comp.length;
  }
  const cd = concat(central);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cd.length, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, cd, eocd]);
}

// MATLAB v5 writer -------------------------------------------------------------------------------------

type MatStorage = "int8" | "uint8" | "int32" | "uint32" | "double";
const MI_CODE: Record<MatStorage, number> = { int8: 1, uint8: 2, int32: 5, uint32: 6, double: 9 };
const MI_SIZE: Record<MatStorage, number> = { int8: 1, uint8: 1, int32: 4, uint32: 4, double: 8 };
const MX_CODE = { double: 6, uint8: 9, int32: 12, cell: 1 } as const;

class MatWriter {
  constructor(readonly le: boolean) {}

  numbers(storage: MatStorage, values: ArrayLike<number>): Uint8Array {
    const size = MI_SIZE[storage];
    const b = new Uint8Array(values.length * size);
    const v = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      if (storage === "int8") v.setInt8(i, x);
      else if (storage === "uint8") v.setUint8(i, x);
      else if (storage === "int32") v.setInt32(i * 4, x, this.le);
      else if (storage === "uint32") v.setUint32(i * 4, x, this.le);
      else v.setFloat64(i * 8, x, this.le);
    }
    return b;
  }

  element(type: number, data: Uint8Array): Uint8Array {
    if (data.length <= 4 && type !== 14 && type !== 15) { // small data element format
      const b = new Uint8Array(8);
      const v = new DataView(b.buffer);
      if (this.le) {
        v.setUint16(0, type, true);
        v.setUint16(2, data.length, true);
      } else {
        v.setUint16(0, data.length, false);
        v.setUint16(2, type, false);
      }
      b.set(data, 4);
      return b;
    }
    const head = new Uint8Array(8);
    const hv = new DataView(head.buffer);
    hv.setUint32(0, type, this.le);
    hv.setUint32(4, data.length, this.le);
    const pad = type === 15 ? 0 : (8 - (data.length % 8)) % 8;
    return concat([head, data, new Uint8Array(pad)]);
  }

  matrix(name: string, cls: keyof typeof MX_CODE, dims: number[], storage: MatStorage, values: ArrayLike<number>): Uint8Array {
    const flags = this.numbers("uint32", [MX_CODE[cls], 0]);
    const body = concat([
      this.element(6, flags),
      this.element(5, this.numbers("int32", dims)),
      this.element(1, enc.encode(name)),
      this.element(MI_CODE[storage], this.numbers(storage, values)),
    ]);
    return this.element(14, body);
  }

  compressed(element: Uint8Array): Uint8Array {
    return this.element(15, new Uint8Array(deflateSync(element)));
  }

  file(elements: Uint8Array[], headerText = "MATLAB 5.0 MAT-file, Platform: fixture, Created by make_fixtures.ts", version = 0x0100): Uint8Array {
    const h = new Uint8Array(128).fill(0x20);
    h.set(enc.encode(headerText).subarray(0, 116));
    h.fill(0, 116, 124);
    const v = new DataView(h.buffer);
    v.setUint16(124, version, this.le);
    h.set(enc.encode(this.le ? "IM" : "MI"), 126);
    return concat([h, ...elements]);
  }
}

// ---------------------------------------------------------------------------------------------- pictures

/** A smooth, compressible, seeded pattern (so PNG/JPEG/zlib fixtures stay small). */
function pattern(h: number, w: number, c: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const fx = rng.uniform(0.05, 0.4), fy = rng.uniform(0.05, 0.4), ph = rng.uniform(0, 6);
  const out = new Uint8Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const v = 127.5 + 127.5 * Math.sin(fx * x + fy * y + ph + k * 2.1);
        out[(y * w + x) * c + k] = Math.round(v);
      }
    }
  }
  return out;
}

function png(h: number, w: number, seed: number, channels: 1 | 3 | 4 = 3): Uint8Array {
  return encodePng({ width: w, height: h, data: pattern(h, w, channels, seed), channels, depth: 8 });
}

function jpg(h: number, w: number, seed: number): Uint8Array {
  const rgb = pattern(h, w, 3, seed);
  const rgba = new Uint8Array(h * w * 4);
  for (let i = 0; i < h * w; i++) {
    rgba.set(rgb.subarray(3 * i, 3 * i + 3), 4 * i);
    rgba[4 * i + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 90).data);
}

/** A 1-bit Omniglot-like PNG: white background (1), a black (0) stroke. */
function strokePng(size: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const rowBytes = Math.ceil(size / 8);
  const packed = new Uint8Array(rowBytes * size).fill(0xff);
  const x0 = rng.int(size), y0 = rng.int(size), x1 = rng.int(size), y1 = rng.int(size);
  for (let t = 0; t <= 200; t++) {
    const x = Math.round(x0 + ((x1 - x0) * t) / 200);
    const y = Math.round(y0 + ((y1 - y0) * t) / 200);
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= size || yy >= size) continue;
        packed[yy * rowBytes + (xx >> 3)]! &= ~(0x80 >> (xx & 7));
      }
    }
  }
  return encodePng({ width: size, height: size, data: packed, channels: 1, depth: 1 });
}

function cifarRecords(n: number, labelBytes: 1 | 2, labelOf: (i: number) => number[], seed: number): Uint8Array {
  const rec = labelBytes + 3072;
  const out = new Uint8Array(n * rec);
  for (let i = 0; i < n; i++) {
    out.set(labelOf(i), i * rec);
    const hwc = pattern(32, 32, 3, seed + i);
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) out[i * rec + labelBytes + c * 1024 + p] = hwc[p * 3 + c]!;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------- generation

/** Expected contents of the fixtures, for the tests. */
export const FIXTURE_FACTS = {
  idxCount: 3,
  idxLabels: [7, 2, 1],
  cifar10: { train: 10, test: 3 },
  cifar100: { train: 2, test: 3 },
  svhn: { n: 5, labels: [1, 9, 0, 3, 0] },
  odinImages: 4,
  textures: 3,
  places: { inArchive: 12, kept: 5 },
  omniglot: 4,
} as const;

/** The SVHN fixture's X as NHWC plus raw labels 1..10 (10 = digit 0). */
function svhnArrays(n: number): { colMajor: Uint8Array; labels: number[] } {
  const colMajor = new Uint8Array(32 * 32 * 3 * n);
  for (let i = 0; i < n; i++) {
    const hwc = pattern(32, 32, 3, 500 + i);
    for (let c = 0; c < 3; c++) {
      for (let col = 0; col < 32; col++) {
        for (let row = 0; row < 32; row++) colMajor[((i * 3 + c) * 32 + col) * 32 + row] = hwc[(row * 32 + col) * 3 + c]!;
      }
    }
  }
  return { colMajor, labels: [1, 9, 10, 3, 10].slice(0, n) };
}

/** SVHN's `pattern` seeds, so tests can recompute the expected NHWC images. */
export const SVHN_PATTERN_SEED = 500;
/** Recomputes fixture pattern images (same generator as the files). */
export { pattern };

function svhnMat(le: boolean, compress: boolean, opts: { n?: number; badLabel?: boolean; xDims?: number[] } = {}): Uint8Array {
  const n = opts.n ?? 5;
  const m = new MatWriter(le);
  const { colMajor, labels } = svhnArrays(n);
  if (opts.badLabel) labels[1] = 11;
  const X = m.matrix("X", "uint8", opts.xDims ?? [32, 32, 3, n], "uint8", colMajor);
  const y = m.matrix("y", "double", [n, 1], "uint8", labels); // MATLAB stores small doubles as uint8
  const note = m.matrix("note", "cell", [1, 1], "uint8", []); // skipped by the reader
  const els = compress ? [m.compressed(note), m.compressed(X), m.compressed(y)] : [X, y];
  return m.file(els);
}

/** Writes every fixture under `out`; returns the relative paths written. */
export function generateFixtures(out: string): string[] {
  const written: string[] = [];
  const write = (rel: string, data: Uint8Array | string) => {
    const p = join(out, rel);
    Deno.mkdirSync(dirname(p), { recursive: true });
    Deno.writeFileSync(p, typeof data === "string" ? enc.encode(data) : data);
    written.push(rel);
  };

  // IDX ------------------------------------------------------------------------------------------------
  const n = FIXTURE_FACTS.idxCount;
  const imgs = pattern(n * 28, 28, 1, 7);
  const labels = new Uint8Array(FIXTURE_FACTS.idxLabels);
  const images = idx([n, 28, 28], imgs);
  write("idx/t10k-images-idx3-ubyte", images);
  write("idx/t10k-labels-idx1-ubyte", idx([n], labels));
  write("idx/train-images-idx3-ubyte", images);
  write("idx/train-labels-idx1-ubyte", idx([n], labels));
  write("idx/gz/t10k-images-idx3-ubyte.gz", new Uint8Array(gzipSync(images)));
  write("idx/gz/t10k-labels-idx1-ubyte.gz", new Uint8Array(gzipSync(idx([n], labels))));
  write("idx/bad/wrong-magic-idx3-ubyte", concat([new Uint8Array([0x50, 0x4b, 0x03, 0x04]), images.subarray(4)]));
  write("idx/bad/truncated-images-idx3-ubyte", images.subarray(0, images.length - 100));
  write("idx/bad/truncated-header-idx3-ubyte", images.subarray(0, 10));
  write("idx/bad/trailing-images-idx3-ubyte", concat([images, new Uint8Array(7)]));
  write("idx/bad/float-images-idx3-ubyte", idx([1, 1, 1], new Uint8Array(4), 0x0d));
  write("idx/bad/rank2-images-idx2-ubyte", idx([n, 784], imgs));
  write("idx/bad/short-labels-idx1-ubyte", idx([n - 1], labels.subarray(0, n - 1)));
  write("idx/bad/big-labels-idx1-ubyte", idx([n], new Uint8Array([1, 12, 3])));
  write("idx/bad/corrupt-images-idx3-ubyte.gz", new Uint8Array(gzipSync(images)).map((b, i) => (i > 40 && i < 80 ? b ^ 0x5a : b)));

  // CIFAR (bad files; good ones live under root/) --------------------------------------------------------
  const c10 = cifarRecords(2, 1, (i) => [i], 100);
  write("cifar/bad/not-multiple.bin", c10.subarray(0, c10.length - 1000));
  write("cifar/bad/empty.bin", new Uint8Array(0));
  write("cifar/bad/label-out-of-range.bin", cifarRecords(2, 1, (i) => [i === 1 ? 10 : 0], 100));

  // MAT --------------------------------------------------------------------------------------------------
  write("mat/svhn-compressed-le.mat", svhnMat(true, true));
  write("mat/svhn-plain-le.mat", svhnMat(true, false));
  write("mat/svhn-plain-be.mat", svhnMat(false, false));
  const good = svhnMat(true, true);
  const hdf5 = new Uint8Array(1024);
  hdf5.set(enc.encode("MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: fixture HDF5 schema 1.00 ."));
  hdf5.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], 512);
  write("mat/bad/v73-hdf5.mat", hdf5);
  // Level 4: a 20-byte header (type, rows, cols, imagf, namlen), the name, then the data (here 25 doubles)
  write("mat/bad/level4.mat", concat([new Uint8Array([0, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]), enc.encode("x\0"), new Uint8Array(200)]));
  write("mat/bad/version.mat", new MatWriter(true).file([], undefined, 0x0200));
  write("mat/bad/truncated.mat", good.subarray(0, good.length - 500));
  const corrupt = good.slice();
  for (let i = 400; i < 460; i++) corrupt[i] = corrupt[i]! ^ 0xa5;
  write("mat/bad/corrupt-zlib.mat", corrupt);
  const mw = new MatWriter(true);
  write("mat/bad/no-y.mat", mw.file([mw.compressed(mw.matrix("X", "uint8", [32, 32, 3, 1], "uint8", new Uint8Array(3072)))]));
  write("mat/bad/x-dims.mat", svhnMat(true, true, { n: 2, xDims: [32, 32, 6, 1] }));
  write("mat/bad/label-11.mat", svhnMat(true, true, { n: 2, badLabel: true }));
  const badEndian = good.slice();
  badEndian.set(enc.encode("XY"), 126);
  write("mat/bad/endian.mat", badEndian);

  // single images ---------------------------------------------------------------------------------------
  write("images/rgb-20x30.png", png(20, 30, 1));
  write("images/gray-12x12.png", png(12, 12, 2, 1));
  write("images/rgba-8x8.png", png(8, 8, 3, 4));
  write("images/onebit-105.png", strokePng(105, 4));
  write("images/palette-2x3.png", encodePng({ width: 3, height: 2, data: new Uint8Array([0, 1, 2, 2, 1, 0]), channels: 1, depth: 8, palette: [[255, 0, 0], [0, 255, 0], [0, 0, 255]] }));
  write("images/gray16-4x4.png", encodePng({ width: 4, height: 4, data: new Uint16Array(16).map((_, i) => i * 4096 + 255), channels: 1, depth: 16 }));
  write("images/photo-48x64.jpg", jpg(48, 64, 5));
  const goodPng = png(16, 16, 6);
  write("images/bad/truncated.png", goodPng.subarray(0, 40));
  write("images/bad/not-an-image.jpg", "this is a text file with a .jpg extension\n");
  const goodJpg = jpg(16, 16, 7);
  write("images/bad/corrupt.jpg", concat([goodJpg.subarray(0, 20), new Uint8Array(30).fill(0x11)]));
  write("images/bad/empty.png", new Uint8Array(0));

  // Fashion-MNIST-style JSON ------------------------------------------------------------------------------
  write("fashion/bad-json/0.json", '{"data": [[0, 1, 2');
  write("fashion/bad-pixels/0.json", JSON.stringify({ data: [[1, 2, 3]] }));
  write("fashion/bad-count/0.json", JSON.stringify({ data: [Array(784).fill(0), []] }));
  write("fashion/bad-value/0.json", JSON.stringify({ data: [Array(783).fill(0).concat([256])] }));

  // a miniature data root --------------------------------------------------------------------------------
  for (let b = 1; b <= 5; b++) {
    write(`root/cifar10/cifar-10-batches-bin/data_batch_${b}.bin`, cifarRecords(2, 1, (i) => [(2 * (b - 1) + i) % 10], 100 + 10 * b));
  }
  write("root/cifar10/cifar-10-batches-bin/test_batch.bin", cifarRecords(3, 1, (i) => [[3, 8, 8][i]!], 200));
  write("root/cifar10/cifar-10-batches-bin/batches.meta.txt", "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
  write("root/cifar100/cifar-100-binary/train.bin", cifarRecords(2, 2, (i) => [i, 50 + i], 300));
  write("root/cifar100/cifar-100-binary/test.bin", cifarRecords(3, 2, (i) => [19 - i, 99 - i], 310));
  write("root/cifar100/cifar-100-binary/fine_label_names.txt", Array.from({ length: 100 }, (_, i) => `fine${i}`).join("\n") + "\n");
  write("root/cifar100/cifar-100-binary/coarse_label_names.txt", Array.from({ length: 20 }, (_, i) => `coarse${i}`).join("\n") + "\n");
  write("root/svhn/test_32x32.mat", svhnMat(true, true));
  const odin = (folder: string, seed: number) =>
    Array.from({ length: FIXTURE_FACTS.odinImages }, (_, i) => ({ name: `${folder}/${String(i).padStart(4, "0")}.jpg`, data: jpg(32, 32, seed + i) }));
  const odinSets = {
    tin_crop: odin("Imagenet/test", 600),
    tin_resize: odin("Imagenet_resize/Imagenet_resize", 610),
    lsun_crop: odin("LSUN/test", 620),
    lsun_resize: odin("LSUN_resize/LSUN_resize", 630),
    isun: odin("iSUN/iSUN_patches", 640).map((e) => ({ ...e, name: e.name.replace(".jpg", ".jpeg") })),
  };
  for (const [name, files] of Object.entries(odinSets)) for (const f of files) write(`root/${name}/${f.name}`, f.data);
  const textures = [
    { name: "dtd/images/banded/banded_0001.jpg", data: jpg(48, 64, 700) },
    { name: "dtd/images/banded/banded_0002.jpg", data: jpg(60, 40, 701) },
    { name: "dtd/images/zigzagged/zigzagged_0001.jpg", data: jpg(33, 45, 702) },
    { name: "dtd/labels/labels_joint_anno.txt", data: enc.encode("banded/banded_0001.jpg banded\n") },
  ];
  for (const f of textures) write(`root/textures/${f.name}`, f.data);
  const placesAll = Array.from({ length: FIXTURE_FACTS.places.inArchive }, (_, i) => ({
    name: `test_256/Places365_test_${String(i + 1).padStart(8, "0")}.jpg`,
    data: jpg(40, 40, 800 + i),
  }));
  for (const f of placesAll.slice(0, FIXTURE_FACTS.places.kept)) write(`root/places365/${f.name}`, f.data);
  // MOS subsets (iNaturalist, SUN): JPEGs of various sizes, so "resize" and "resize_center_crop" differ.
  const mos = (folder: string, seed: number) => [
    { name: `${folder}/images/${seed}.jpg`, data: jpg(48, 64, seed) },
    { name: `${folder}/images/${seed + 1}.jpg`, data: jpg(60, 40, seed + 1) },
  ];
  for (const f of mos("iNaturalist", 850)) write(`root/inaturalist/${f.name}`, f.data);
  for (const f of mos("SUN", 860)) write(`root/sun/${f.name}`, f.data);
  const omni = [
    { name: "images_evaluation/Angelic/character01/0965_01.png", data: strokePng(105, 900) },
    { name: "images_evaluation/Angelic/character01/0965_02.png", data: strokePng(105, 901) },
    { name: "images_evaluation/Atemayar_Qelisayer/character02/0977_01.png", data: strokePng(105, 902) },
    { name: "images_evaluation/Atemayar_Qelisayer/character02/0977_02.png", data: strokePng(105, 903) },
  ];
  for (const f of omni) write(`root/omniglot/${f.name}`, f.data);
  // CSI's fixed-resize sets (CMG's LSUN-FIX and ImageNet-FIX): 32×32 PNGs named as CSI's scripts save them.
  for (let i = 0; i < 2; i++) {
    write(`root/lsun_fix/LSUN_fix/correct_resize_${i}.png`, png(32, 32, 880 + i));
    write(`root/imagenet_fix/Imagenet_fix/correct_resize_${i}.png`, png(32, 32, 890 + i));
  }
  write("root/empty_set/.keep", "");

  // archives served by the loopback server ------------------------------------------------------------------
  const cifarTar = tar([
    { name: "cifar-10-batches-bin/", type: "5" },
    ...[1, 2, 3, 4, 5].map((b) => ({
      name: `cifar-10-batches-bin/data_batch_${b}.bin`,
      data: cifarRecords(2, 1, (i) => [(2 * (b - 1) + i) % 10], 100 + 10 * b),
    })),
    { name: "cifar-10-batches-bin/test_batch.bin", data: cifarRecords(3, 1, (i) => [[3, 8, 8][i]!], 200) },
    { name: "cifar-10-batches-bin/batches.meta.txt", data: enc.encode("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n") },
  ]);
  const cifarTgz = new Uint8Array(gzipSync(cifarTar));
  write("archives/cifar-10-binary.tar.gz", cifarTgz);
  write("archives/LSUN.tar.gz", new Uint8Array(gzipSync(tar([
    ...odinSets.lsun_crop,
    { name: "LSUN/test/._0000.jpg", data: enc.encode("AppleDouble resource fork, not an image") },
    { name: `LSUN/test/${"long-name-".repeat(12)}.jpg`, data: jpg(32, 32, 650), pax: true },
  ]))));
  write("archives/test_256.tar", tar(placesAll));
  write("archives/images_evaluation.zip", zip([
    { name: "images_evaluation/", mode: 0o040755 },
    ...omni.map((f, i) => ({ ...f, deflate: i % 2 === 0 })),
  ]));
  write("archives/dtd.tar.gz", new Uint8Array(gzipSync(tar(textures))));
  // hostile and broken ones
  const benign = { name: "ok/file.txt", data: enc.encode("fine\n") };
  write("archives/bad/traversal.tar.gz", new Uint8Array(gzipSync(tar([benign, { name: "../../evil.txt", data: enc.encode("pwned\n") }]))));
  write("archives/bad/absolute.tar", tar([benign, { name: "/tmp/ood-evil.txt", data: enc.encode("pwned\n") }]));
  write("archives/bad/symlink-out.tar", tar([benign, { name: "ok/link", type: "2", linkname: "../../../etc" }]));
  write("archives/bad/symlink-then-write.tar", tar([
    { name: "ok/inner", type: "5" },
    { name: "ok/alias", type: "2", linkname: "inner" },
    { name: "ok/alias/file.txt", data: enc.encode("through a link\n") },
  ]));
  write("archives/bad/hardlink-out.tar", tar([benign, { name: "ok/passwd", type: "1", linkname: "/etc/passwd" }]));
  write("archives/bad/device.tar", tar([benign, { name: "ok/sda", type: "3" }]));
  write("archives/bad/fifo.tar", tar([benign, { name: "ok/pipe", type: "6" }]));
  const badSum = tar([benign]);
  badSum[0] = "X".charCodeAt(0); // header content changed, checksum field not
  write("archives/bad/header-checksum.tar", badSum);
  write("archives/bad/no-end-marker.tar", tar([benign], { endMarker: false }));
  write("archives/bad/truncated.tar.gz", cifarTgz.subarray(0, Math.floor(cifarTgz.length / 2)));
  const corruptTgz = cifarTgz.slice();
  for (let i = 100; i < 400; i++) corruptTgz[i] = corruptTgz[i]! ^ 0x3c;
  write("archives/bad/corrupt.tar.gz", corruptTgz);
  write("archives/bad/traversal.zip", zip([{ name: "ok.txt", data: enc.encode("fine\n") }, { name: "../evil.txt", data: enc.encode("pwned\n") }]));
  write("archives/bad/symlink-out.zip", zip([{ name: "link", data: enc.encode("/etc/passwd"), mode: 0o120777 }]));
  write("archives/bad/crc.zip", zip([{ name: "a.txt", data: enc.encode("checked\n"), deflate: true }], { corruptCrcOf: "a.txt" }));
  const z = zip([{ name: "a.txt", data: enc.encode("x\n") }]);
  write("archives/bad/truncated.zip", z.subarray(0, z.length - 30));
  write("archives/bad/empty.tar", tar([]));
  return written.sort();
}

if (import.meta.main) {
  const here = dirname(fromFileUrl(import.meta.url));
  for (const d of ["idx", "cifar", "mat", "images", "fashion", "root", "archives"]) {
    try {
      Deno.removeSync(join(here, d), { recursive: true });
    } catch { /* first run */ }
  }
  const files = generateFixtures(here);
  let total = 0;
  for (const f of files) total += Deno.statSync(join(here, f)).size;
  console.log(`wrote ${files.length} fixture files, ${(total / 1024).toFixed(1)} KiB, under ${here}`);
}
