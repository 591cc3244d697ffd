import { tmpDirTest } from "../test_utils.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import h5wasm from "h5wasm/node";
import {
  encodeNpy,
  type NpyData,
  type NpyDtype,
  npyToDense,
  npyToLabels,
  parseNpy,
  readNpy,
  writeNpy,
} from "../../src/datasets/formats/npy.ts";
import { inspectMat73, isHdf5File, readMat73 } from "../../src/datasets/formats/hdf5.ts";
import { inspectMatFile, matFormat, readMatFile } from "../../src/datasets/formats/matfile.ts";
import { matToDense, matToLabels } from "../../src/datasets/formats/mat.ts";
import { encodeMat, matVar } from "./fixtures/mat_writer.ts";

function nums(a: NpyData): number[] {
  return Array.from(a as ArrayLike<number | bigint>, Number);
}

function b64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

let tmp = "";
/** A test that gets a fresh temporary directory (`tmp`), removed afterwards. */
const tmpTest = tmpDirTest("data_npy_hdf5_", (dir) => (tmp = dir));

// ------------------------------------------------------------------ .npy

// Written by numpy 2.4.6 `np.save`:
const NUMPY = {
  // np.arange(6, dtype='<f4').reshape(2, 3)
  f4c:
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBAAACAQAAAoEA=",
  // np.asfortranarray(np.arange(6, dtype='<i4').reshape(2, 3))
  i4f:
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAwAAAAEAAAAEAAAAAgAAAAUAAAA=",
  // np.array([[True, False], [False, True]])
  b1:
    "k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAB",
  // np.array([1.5, -2.0, 3.25], dtype='>f8')
  f8be:
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPmY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/+AAAAAAAAMAAAAAAAAAAQAoAAAAAAAA=",
  // np.asfortranarray(np.arange(24, dtype='<i8').reshape(2, 3, 4))
  i8f3:
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMywgNCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAwAAAAAAAAABAAAAAAAAAAQAAAAAAAAAAgAAAAAAAAAFAAAAAAAAAABAAAAAAAAAA0AAAAAAAAABQAAAAAAAAARAAAAAAAAAAkAAAAAAAAAFQAAAAAAAAACAAAAAAAAAA4AAAAAAAAABgAAAAAAAAASAAAAAAAAAAoAAAAAAAAAFgAAAAAAAAADAAAAAAAAAA8AAAAAAAAABwAAAAAAAAATAAAAAAAAAAsAAAAAAAAAFwAAAAAAAAA=",
};

Deno.test(".npy reader decodes files written by numpy (C and Fortran order, both byte orders)", () => {
  const f4 = parseNpy(b64(NUMPY.f4c));
  assert.deepEqual([f4.dtype, f4.shape, f4.fortranOrder], ["f4", [2, 3], false]);
  assert.deepEqual(nums(f4.data), [0, 1, 2, 3, 4, 5]);
  const i4 = parseNpy(b64(NUMPY.i4f));
  assert.deepEqual([i4.dtype, i4.shape, i4.fortranOrder], ["i4", [2, 3], true]);
  assert.deepEqual(nums(i4.data), [0, 1, 2, 3, 4, 5]); // returned in C order
  const b1 = parseNpy(b64(NUMPY.b1));
  assert.deepEqual(nums(b1.data), [1, 0, 0, 1]);
  assert.deepEqual(Array.from(npyToLabels(b1).data), [1, 0, 0, 1]);
  const be = parseNpy(b64(NUMPY.f8be));
  assert.deepEqual([be.dtype, be.shape], ["f8", [3]]);
  assert.deepEqual(nums(be.data), [1.5, -2, 3.25]);
  const i8 = parseNpy(b64(NUMPY.i8f3));
  assert.deepEqual(i8.shape, [2, 3, 4]);
  assert.deepEqual(Array.from(i8.data, Number), Array.from({ length: 24 }, (_, i) => i));
  const dense = npyToDense(f4);
  assert.deepEqual([dense.rows, dense.cols, Array.from(dense.data)], [2, 3, [0, 1, 2, 3, 4, 5]]);
});

const SAMPLES: { dtype: NpyDtype; data: NpyData }[] = [
  { dtype: "f4", data: new Float32Array([0.5, -1, 3, 1e-7, 2, 7]) },
  { dtype: "f8", data: new Float64Array([Math.PI, -1, 3, 1e-300, 2, 7]) },
  { dtype: "u1", data: new Uint8Array([0, 255, 3, 4, 5, 6]) },
  { dtype: "b1", data: new Uint8Array([0, 1, 1, 0, 1, 0]) },
  { dtype: "i4", data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, 1, -1, 5]) },
  { dtype: "u4", data: new Uint32Array([0, 2 ** 32 - 1, 7, 8, 9, 10]) },
  { dtype: "i8", data: new BigInt64Array([-(2n ** 62n), 2n ** 62n, 0n, 1n, -1n, 5n]) },
];

Deno.test(".npy writer and reader round-trip every dtype, version, order and byte order", () => {
  for (const s of SAMPLES) {
    for (const version of [1, 2, 3] as const) {
      for (const fortranOrder of [false, true]) {
        for (const bigEndian of [false, true]) {
          const bytes = encodeNpy({ dtype: s.dtype, shape: [2, 3], data: s.data }, {
            version,
            fortranOrder,
            bigEndian,
          });
          assert.equal(bytes[6], version);
          const hlen = version === 1
            ? new DataView(bytes.buffer).getUint16(8, true) + 10
            : new DataView(bytes.buffer).getUint32(8, true) + 12;
          assert.equal(hlen % 64, 0, "data starts on a 64-byte boundary, as numpy requires");
          const back = parseNpy(bytes);
          const tag = `${s.dtype} v${version} F=${fortranOrder} BE=${bigEndian}`;
          assert.deepEqual([back.dtype, back.shape, back.fortranOrder], [
            s.dtype,
            [2, 3],
            fortranOrder,
          ], tag);
          assert.deepEqual(
            Array.from(back.data as ArrayLike<unknown>),
            Array.from(s.data as ArrayLike<unknown>),
            tag,
          );
        }
      }
    }
  }
});

Deno.test(".npy Fortran-order writing stores the transpose layout numpy expects", () => {
  // C-order [[0,1,2],[3,4,5]] in Fortran order is 0,3,1,4,2,5 on disk (same as numpy's i4f file)
  const bytes = encodeNpy(
    { dtype: "i4", shape: [2, 3], data: new Int32Array([0, 1, 2, 3, 4, 5]) },
    {
      fortranOrder: true,
    },
  );
  const onDisk = new Int32Array(bytes.slice(bytes.length - 24).buffer);
  assert.deepEqual(Array.from(onDisk), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(bytes, b64(NUMPY.i4f));
});

tmpTest(
  ".npy errors name the file: bad magic, unsupported dtype, truncated data, wrong rank",
  async () => {
    const bad = join(tmp, "bad.npy");
    await Deno.writeFile(bad, new Uint8Array(64));
    await assert.rejects(readNpy(bad), /bad\.npy: not a \.npy file/);
    const c8 = encodeNpy({ dtype: "f4", shape: [2], data: new Float32Array(2) });
    const at = new TextDecoder("latin1").decode(c8).indexOf("<f4");
    c8.set(new TextEncoder().encode("<c8"), at);
    const p = join(tmp, "c8.npy");
    await Deno.writeFile(p, c8);
    await assert.rejects(readNpy(p), /c8\.npy: unsupported dtype '<c8'/);
    const good = encodeNpy({ dtype: "f8", shape: [4, 2], data: new Float64Array(8) });
    const t = join(tmp, "trunc.npy");
    await Deno.writeFile(t, good.subarray(0, good.length - 8));
    await assert.rejects(readNpy(t), /trunc\.npy: data has 56 bytes, expected 64/);
    const w = join(tmp, "w.npy");
    await writeNpy(w, { dtype: "u1", shape: [2, 2, 2], data: new Uint8Array(8) });
    assert.throws(
      () => npyToDense(parseNpy(Deno.readFileSync(w), w), w),
      /w\.npy.*shape \(2, 2, 2\).*2-D/,
    );
    await assert.rejects(readNpy(join(tmp, "none.npy")), /none\.npy: file not found/);
    assert.throws(
      () =>
        npyToLabels(
          parseNpy(encodeNpy({ dtype: "u1", shape: [1, 2], data: new Uint8Array([1, 2]) })),
          "L.npy",
        ),
      /L\.npy: value 2 at row 0, column 1/,
    );
  },
);

// ------------------------------------------------------------------ HDF5 / MAT v7.3

await h5wasm.ready;

/** Write a MATLAB-style v7.3 file: dims reversed, MATLAB_class attributes. */
function writeV73(path: string, build: (f: InstanceType<typeof h5wasm.File>) => void): void {
  const f = new h5wasm.File(path, "w");
  try {
    build(f);
  } finally {
    f.close();
  }
}

/** A rows x cols MATLAB matrix given row-major, stored the way MATLAB does (shape [cols, rows]). */
function matlabMatrix(
  f: InstanceType<typeof h5wasm.File>,
  name: string,
  rows: number,
  cols: number,
  rowMajor: ArrayLike<number>,
  cls: string,
  Ctor: Float64ArrayConstructor | Uint8ArrayConstructor | Float32ArrayConstructor = Float64Array,
) {
  const colMajor = new Ctor(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) colMajor[c * rows + r] = rowMajor[r * cols + c];
  }
  const d = f.create_dataset({ name, data: colMajor, shape: [cols, rows] });
  d.create_attribute("MATLAB_class", cls);
}

tmpTest("MAT v7.3 reader reverses HDF5 dims and returns row-major matrices", async () => {
  const p = join(tmp, "v73.mat");
  writeV73(p, (f) => {
    matlabMatrix(f, "A", 2, 3, [1.5, -2, 3, 4, 5.25, -6], "double");
    matlabMatrix(f, "S", 3, 1, [0.5, 1, 2], "single", Float32Array);
    matlabMatrix(f, "L", 2, 2, [1, 0, 0, 1], "logical", Uint8Array);
    // char ["cat"; "dog"]: MATLAB 2x3, column-major codes, HDF5 shape [3, 2]
    const codes = new Uint16Array([..."cdaotg"].map((c) => c.charCodeAt(0)));
    const ch = f.create_dataset({ name: "names", data: codes, shape: [3, 2] });
    ch.create_attribute("MATLAB_class", "char");
    // sparse 3x4 [[0,1.5,0,0],[2,0,0,-3],[0,0,0,4]]
    const g = f.create_group("SP");
    g.create_attribute("MATLAB_class", "double");
    g.create_attribute("MATLAB_sparse", new BigUint64Array([3n]), [], "<Q");
    g.create_dataset({ name: "ir", data: new BigUint64Array([1n, 0n, 1n, 2n]) });
    g.create_dataset({ name: "jc", data: new BigUint64Array([0n, 1n, 2n, 2n, 4n]) });
    g.create_dataset({ name: "data", data: new Float64Array([2, 1.5, -3, 4]) });
    const e = f.create_dataset({ name: "E", data: new BigUint64Array([0n, 5n]) });
    e.create_attribute("MATLAB_class", "double");
    e.create_attribute("MATLAB_empty", new Uint8Array([1]), [], "<B");
    f.create_group("#refs#");
  });
  assert.equal(await isHdf5File(p), true);
  assert.equal(await matFormat(p), "v7.3");
  const m = await readMat73(p);
  assert.deepEqual([...m.keys()].sort(), ["A", "E", "L", "S", "SP", "names"]);
  const A = matToDense(m.get("A")!);
  assert.deepEqual([A.rows, A.cols, Array.from(A.data)], [2, 3, [1.5, -2, 3, 4, 5.25, -6]]);
  assert.deepEqual(m.get("S")!.dims, [3, 1]);
  assert.equal(m.get("S")!.class, "single");
  const L = m.get("L")!;
  assert.ok(L.type === "numeric" && L.logical);
  assert.deepEqual(Array.from(matToLabels(L).data), [1, 0, 0, 1]);
  const names = m.get("names")!;
  assert.ok(names.type === "char");
  assert.deepEqual(names.rows, ["cat", "dog"]);
  const SP = matToDense(m.get("SP")!);
  assert.deepEqual(Array.from(SP.data), [0, 1.5, 0, 0, 2, 0, 0, -3, 0, 0, 0, 4]);
  assert.deepEqual(m.get("E")!.dims, [0, 5]);
  // the generic entry point gives the same
  const viaFile = await readMatFile(p, { variables: ["A"] });
  assert.deepEqual(Array.from(matToDense(viaFile.get("A")!).data), Array.from(A.data));
});

tmpTest("MAT v7.3 with MATLAB's 512-byte user block is detected and read", async () => {
  const plain = join(tmp, "plain.h5");
  writeV73(plain, (f) => matlabMatrix(f, "X", 2, 2, [1, 2, 3, 4], "double"));
  const bytes = await Deno.readFile(plain);
  const withHeader = new Uint8Array(512 + bytes.length);
  withHeader.set(
    new TextEncoder().encode(
      "MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: test HDF5 schema 1.00 .",
    ),
  );
  withHeader.set(bytes, 512);
  const p = join(tmp, "ub.mat");
  await Deno.writeFile(p, withHeader);
  assert.equal(await matFormat(p), "v7.3");
  const X = matToDense((await readMatFile(p)).get("X")!);
  assert.deepEqual(Array.from(X.data), [1, 2, 3, 4]);
});

tmpTest("MAT v7.3 inspection gives dims of huge or 4-D arrays without reading them", async () => {
  const p = join(tmp, "img.mat");
  writeV73(p, (f) => {
    // MATLAB 5x4x3x2 uint8 "images" -> HDF5 shape [2,3,4,5]
    const d = f.create_dataset({ name: "images", data: new Uint8Array(120), shape: [2, 3, 4, 5] });
    d.create_attribute("MATLAB_class", "uint8");
  });
  const info = await inspectMatFile(p);
  assert.deepEqual(info.map((i) => [i.name, i.class, i.dims]), [["images", "uint8", [5, 4, 3, 2]]]);
  assert.throws(
    () =>
      matToDense(
        { ...info[0], type: "numeric", data: new Uint8Array(120) } as never,
        "img.mat: variable 'images'",
      ),
    /images.*4 dimensions.*2-D/,
  );
});

tmpTest(
  "MAT v7.3 errors: missing variable, unsupported class, missing file, not HDF5",
  async () => {
    const p = join(tmp, "e.mat");
    writeV73(p, (f) => {
      matlabMatrix(f, "A", 1, 2, [1, 2], "double");
      const c = f.create_dataset({ name: "C", data: new Uint8Array([0]) });
      c.create_attribute("MATLAB_class", "cell");
      f.create_group("st").create_attribute("MATLAB_class", "struct");
    });
    await assert.rejects(
      readMat73(p, { variables: ["B"] }),
      (e: Error) =>
        e.message.includes(p) && e.message.includes("'B' not found") && e.message.includes("A"),
    );
    await assert.rejects(readMat73(p, { variables: ["C"] }), /e\.mat: variable 'C': class 'cell'/);
    await assert.rejects(
      readMat73(p, { variables: ["st"] }),
      /e\.mat: variable 'st': class 'struct'/,
    );
    const all = await readMat73(p);
    assert.equal(all.get("C")!.type, "unsupported");
    assert.deepEqual(
      (await inspectMat73(p)).map((i) => i.name).sort(),
      ["A", "C", "st"],
    );
    await assert.rejects(readMat73(join(tmp, "missing.mat")), /missing\.mat: file not found/);
    const v5 = join(tmp, "v5.mat");
    await Deno.writeFile(v5, encodeMat([matVar("A", 1, 1, [3])]));
    assert.equal(await matFormat(v5), "v5");
    await assert.rejects(readMat73(v5), /v5\.mat: not an HDF5 \/ MAT v7\.3 file/);
    // the generic entry point reads the v5 file with the v5 reader
    assert.deepEqual(Array.from(matToDense((await readMatFile(v5)).get("A")!).data), [3]);
  },
);

tmpTest(
  "HDF5 datasets without MATLAB attributes follow the requested dimension order",
  async () => {
    const p = join(tmp, "c.h5");
    writeV73(p, (f) => {
      f.create_dataset({ name: "M", data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] });
    });
    const c = matToDense((await readMat73(p, { order: "c" })).get("M")!);
    assert.deepEqual([c.rows, c.cols, Array.from(c.data)], [2, 3, [1, 2, 3, 4, 5, 6]]);
    const ml = matToDense((await readMat73(p)).get("M")!);
    assert.deepEqual([ml.rows, ml.cols, Array.from(ml.data)], [3, 2, [1, 4, 2, 5, 3, 6]]);
  },
);
