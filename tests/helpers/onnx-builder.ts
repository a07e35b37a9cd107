/**
 * A tiny ONNX writer: just enough protobuf (ModelProto, GraphProto, NodeProto, TensorProto,
 * AttributeProto, ValueInfoProto with symbolic dims) to build small test graphs in TypeScript,
 * so the tests need neither Python nor trained weights. Field numbers follow onnx/onnx.proto.
 */

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT64: 7 } as const;
export type ElemType = 'float32' | 'int64' | 'uint8';
const ELEM: Record<ElemType, number> = {
  float32: DataType.FLOAT,
  int64: DataType.INT64,
  uint8: DataType.UINT8,
};

/** Protobuf wire format: varints, length-delimited fields, fixed32 floats. */
class ProtoWriter {
  private readonly parts: number[] = [];

  private varint(value: bigint): void {
    // Negative int64 values are encoded as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, value);
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      this.parts.push(byte);
    } while (v !== 0n);
  }

  private key(field: number, wireType: number): void {
    this.varint(BigInt((field << 3) | wireType));
  }

  int(field: number, value: number | bigint): this {
    this.key(field, 0);
    this.varint(BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.parts.push(...bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.varint(BigInt(value.length));
    for (const byte of value) this.parts.push(byte);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** An attribute value, tagged with its AttributeProto type. */
export type Attribute =
  | { type: 'int'; value: number }
  | { type: 'ints'; value: number[] }
  | { type: 'float'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: TensorSpec };

export const attr = {
  int: (value: number): Attribute => ({ type: 'int', value }),
  ints: (value: number[]): Attribute => ({ type: 'ints', value }),
  float: (value: number): Attribute => ({ type: 'float', value }),
  string: (value: string): Attribute => ({ type: 'string', value }),
  tensor: (value: TensorSpec): Attribute => ({ type: 'tensor', value }),
};

export interface TensorSpec {
  readonly type: ElemType;
  readonly dims: readonly number[];
  readonly values: readonly number[];
}

/** A dimension: a fixed size or a symbolic name ("B") for a dynamic axis. */
export type Dim = number | string;

interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, Attribute>;
}

function writeTensor(w: ProtoWriter, name: string, t: TensorSpec): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, ELEM[t.type]);
  w.string(8, name);
  // raw_data: little-endian values, the most compact form every runtime reads.
  const raw =
    t.type === 'float32'
      ? new Uint8Array(Float32Array.from(t.values).buffer)
      : t.type === 'uint8'
        ? Uint8Array.from(t.values)
        : new Uint8Array(BigInt64Array.from(t.values.map((v) => BigInt(v))).buffer);
  w.bytes(9, raw);
}

function writeAttribute(w: ProtoWriter, name: string, a: Attribute): void {
  w.string(1, name);
  switch (a.type) {
    case 'float':
      w.float(2, a.value).int(20, 1);
      break;
    case 'int':
      w.int(3, a.value).int(20, 2);
      break;
    case 'string':
      w.string(4, a.value).int(20, 3);
      break;
    case 'tensor':
      w.message(5, (t) => {
        writeTensor(t, '', a.value);
      }).int(20, 4);
      break;
    case 'ints':
      for (const v of a.value) w.int(8, v);
      w.int(20, 7);
      break;
  }
}

function writeValueInfo(w: ProtoWriter, name: string, type: ElemType, shape: readonly Dim[]): void {
  w.string(1, name);
  w.message(2, (typeProto) =>
    typeProto.message(1, (tensorType) => {
      tensorType.int(1, ELEM[type]);
      tensorType.message(2, (shapeProto) => {
        for (const d of shape) {
          shapeProto.message(1, (dim) =>
            typeof d === 'number' ? dim.int(1, d) : dim.string(2, d),
          );
        }
      });
    }),
  );
}

/** Collects a graph; `toBytes()` returns a serialized ModelProto (IR 8, default opset 17). */
export class GraphBuilder {
  private readonly inputs: { name: string; type: ElemType; shape: Dim[] }[] = [];
  private readonly outputs: { name: string; type: ElemType; shape: Dim[] }[] = [];
  private readonly initializers: { name: string; tensor: TensorSpec }[] = [];
  private readonly nodes: NodeSpec[] = [];
  private counter = 0;

  constructor(
    readonly name: string,
    readonly opset = 17,
  ) {}

  input(name: string, type: ElemType, shape: Dim[]): string {
    this.inputs.push({ name, type, shape });
    return name;
  }

  output(name: string, type: ElemType, shape: Dim[]): string {
    this.outputs.push({ name, type, shape });
    return name;
  }

  /** A constant tensor input (weights, axes, scales); returns its name. */
  constant(type: ElemType, dims: number[], values: number[], name = `c${this.counter++}`): string {
    this.initializers.push({ name, tensor: { type, dims, values } });
    return name;
  }

  /**
   * Adds a node; returns its output name (`output`, or a fresh one). Inputs may be '' for an
   * omitted optional input, as ONNX allows.
   */
  node(
    opType: string,
    inputs: string[],
    attributes: Record<string, Attribute> = {},
    output = `${opType.toLowerCase()}_${this.counter++}`,
  ): string {
    this.nodes.push({ opType, inputs, outputs: [output], attributes });
    return output;
  }

  toBytes(): Uint8Array {
    const model = new ProtoWriter();
    model.int(1, 8); // ir_version 8 (ONNX 1.13, opset 17)
    model.string(2, 'ditserve-tests');
    model.message(7, (graph) => {
      for (const n of this.nodes) {
        graph.message(1, (node) => {
          for (const i of n.inputs) node.string(1, i);
          for (const o of n.outputs) node.string(2, o);
          node.string(3, n.outputs[0] ?? '');
          node.string(4, n.opType);
          for (const [k, a] of Object.entries(n.attributes)) {
            node.message(5, (w) => {
              writeAttribute(w, k, a);
            });
          }
        });
      }
      graph.string(2, this.name);
      for (const init of this.initializers) {
        graph.message(5, (w) => {
          writeTensor(w, init.name, init.tensor);
        });
      }
      for (const i of this.inputs) {
        graph.message(11, (w) => {
          writeValueInfo(w, i.name, i.type, i.shape);
        });
      }
      for (const o of this.outputs) {
        graph.message(12, (w) => {
          writeValueInfo(w, o.name, o.type, o.shape);
        });
      }
    });
    model.message(8, (opset) => opset.string(1, '').int(2, this.opset));
    return model.finish();
  }
}
