/**
 * A small typed layer over the ONNX protobuf: build a graph node by node, serialize a model.
 * @module
 */
import { ProtoWriter } from "./protobuf.ts";

/** Element types the builder emits, with their ONNX `TensorProto.DataType` codes. */
export const ELEMENT_TYPES = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
} as const;

/** An ONNX element type name. */
export type ElementType = keyof typeof ELEMENT_TYPES;

/** The name of a value (graph input, initializer or node output). */
export type Value = string & { readonly __value: unique symbol };

/** A dimension: a fixed size or a symbolic name such as `"batch"`. */
export type Dim = number | string;

/** Typed data for an initializer. */
export type TensorData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

/** A node attribute value; numbers are ints unless wrapped with {@link float}. */
export type Attribute =
  | number
  | { readonly float: number }
  | readonly number[]
  | { readonly floats: readonly number[] }
  | string
  | {
    readonly tensor: {
      readonly type: ElementType;
      readonly dims: readonly number[];
      readonly data: TensorData;
    };
  }
  | { readonly graph: Subgraph };

/** A graph held by a node attribute (a branch of `If`); built with {@link GraphBuilder.subgraph}. */
export interface Subgraph {
  readonly name: string;
  readonly nodes: readonly NodeRecord[];
  readonly outputs: readonly ValueInfoRecord[];
}

/** Marks a number attribute as a float (plain numbers are written as ints). */
export function float(value: number): { readonly float: number } {
  return { float: value };
}

interface NodeRecord {
  readonly opType: string;
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, Attribute>>;
}

interface InitializerRecord {
  readonly name: string;
  readonly type: ElementType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

interface ValueInfoRecord {
  readonly name: string;
  readonly type: ElementType;
  /** Omitted: the shape is left to inference. */
  readonly dims?: readonly Dim[];
}

/** Options for a node. */
export interface NodeOptions {
  /** Number of outputs (default 1). */
  readonly outputs?: number;
  /** Operator domain, `""` for the default ONNX domain (default), `"com.microsoft"` for ORT contrib ops. */
  readonly domain?: string;
}

/**
 * Builds one ONNX graph. Node and value names are derived from a scope stack so that the
 * serialized graph reads like the model (`image_encoder.layers.1.blocks.0.attn/MatMul_3`).
 *
 * @example
 * ```ts
 * const g = new GraphBuilder("tiny");
 * const x = g.input("x", "float32", [1, 4]);
 * const w = g.initializer("w", "float32", [4, 2], new Float32Array(8));
 * g.output(g.node("MatMul", [x, w]), "y", "float32", [1, 2]);
 * const bytes = g.toModel({ opset: 17 });
 * ```
 */
export class GraphBuilder {
  readonly #name: string;
  #nodes: NodeRecord[] = [];
  readonly #initializers: InitializerRecord[] = [];
  readonly #inputs: ValueInfoRecord[] = [];
  readonly #outputs: ValueInfoRecord[] = [];
  readonly #scopes: string[] = [];
  readonly #usedNames = new Map<string, number>();
  readonly #domains = new Set<string>();

  constructor(name: string) {
    this.#name = name;
  }

  /** The current scope path, dot-separated (`image_encoder.layers.1`), `""` at the top. */
  get scopePath(): string {
    return this.#scopes.join(".");
  }

  /** Runs `body` with `name` pushed on the naming scope. */
  scope<T>(name: string, body: () => T): T {
    this.#scopes.push(name);
    try {
      return body();
    } finally {
      this.#scopes.pop();
    }
  }

  #unique(base: string): string {
    const scoped = this.#scopes.length ? `${this.#scopes.join(".")}/${base}` : base;
    const seen = this.#usedNames.get(scoped) ?? 0;
    this.#usedNames.set(scoped, seen + 1);
    return seen === 0 ? scoped : `${scoped}_${seen}`;
  }

  /** Declares a graph input. */
  input(name: string, type: ElementType, dims: readonly Dim[]): Value {
    this.#inputs.push({ name, type, dims });
    return name as Value;
  }

  /**
   * Declares `value` as a graph output under `name` (an Identity is inserted when renaming);
   * without `dims` the output's shape is left to inference.
   */
  output(value: Value, name: string, type: ElementType, dims?: readonly Dim[]): void {
    const named = value === name ? value : this.#renamed(value, name);
    this.#outputs.push({ name: named, type, dims });
  }

  #renamed(value: Value, name: string): Value {
    this.#nodes.push({
      opType: "Identity",
      domain: "",
      name: `${name}/Identity`,
      inputs: [value],
      outputs: [name],
      attributes: {},
    });
    return name as Value;
  }

  /** Adds a constant tensor (an initializer) named within the current scope. */
  initializer(name: string, type: ElementType, dims: readonly number[], data: TensorData): Value {
    const count = dims.reduce((a, b) => a * b, 1);
    if (data.length !== count) {
      throw new Error(`initializer ${name}: ${data.length} values for dims [${dims}]`);
    }
    const unique = this.#unique(name);
    this.#initializers.push({ name: unique, type, dims, data });
    return unique as Value;
  }

  /** A float32 constant. */
  floats(name: string, dims: readonly number[], data: Float32Array | readonly number[]): Value {
    return this.initializer(name, "float32", dims, Float32Array.from(data));
  }

  /** An int64 constant (shapes, axes, indices). */
  ints(name: string, values: readonly number[], dims: readonly number[] = [values.length]): Value {
    return this.initializer(name, "int64", dims, BigInt64Array.from(values, BigInt));
  }

  /** Adds a node and returns its outputs. */
  nodeN(
    opType: string,
    inputs: readonly (Value | "")[],
    attributes: Readonly<Record<string, Attribute>> = {},
    options: NodeOptions = {},
  ): Value[] {
    const name = this.#unique(opType);
    const count = options.outputs ?? 1;
    const outputs = Array.from({ length: count }, (_, i) => (count === 1 ? name : `${name}:${i}`));
    const domain = options.domain ?? "";
    if (domain) this.#domains.add(domain);
    this.#nodes.push({ opType, domain, name, inputs, outputs, attributes });
    return outputs as Value[];
  }

  /** Adds a single-output node and returns its output. */
  node(
    opType: string,
    inputs: readonly (Value | "")[],
    attributes: Readonly<Record<string, Attribute>> = {},
    options: Omit<NodeOptions, "outputs"> = {},
  ): Value {
    return this.nodeN(opType, inputs, attributes, options)[0];
  }

  /**
   * Records the nodes `body` adds as a subgraph (a branch of `If`) whose outputs are the values
   * `body` returns; its nodes may read any value of the enclosing graph, and its constants are
   * stored with the enclosing graph's.
   */
  subgraph(name: string, body: () => readonly Value[]): { readonly graph: Subgraph } {
    const enclosing = this.#nodes;
    this.#nodes = [];
    try {
      // A branch's outputs must be its own values: pass each one through an Identity.
      const outputs = body().map((value) => this.node("Identity", [value]));
      return {
        graph: {
          name,
          nodes: this.#nodes,
          outputs: outputs.map((o) => ({ name: o, type: "float32" })),
        },
      };
    } finally {
      this.#nodes = enclosing;
    }
  }

  /** Number of nodes so far, by operator type (for tests and reports). */
  opCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const n of this.#nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
    return counts;
  }

  /** Serializes the graph into an ONNX `ModelProto`. */
  toModel(options: { opset: number; producer?: string; docString?: string }): Uint8Array {
    const model = new ProtoWriter();
    model.int64(1, 8); // ir_version 8 (ONNX 1.10+, opset <= 17 semantics are stable there)
    model.string(2, options.producer ?? "tinysam-video");
    if (options.docString) model.string(6, options.docString);
    model.message(8, (o) => o.string(1, "").int64(2, options.opset));
    for (const domain of this.#domains) model.message(8, (o) => o.string(1, domain).int64(2, 1));
    model.message(7, (graph) => this.#writeGraph(graph));
    return model.finish();
  }

  #writeGraph(graph: ProtoWriter): void {
    for (const node of this.#nodes) graph.message(1, (w) => writeNode(w, node));
    graph.string(2, this.#name);
    for (const init of this.#initializers) graph.message(5, (w) => writeTensor(w, init));
    for (const input of this.#inputs) graph.message(11, (w) => writeValueInfo(w, input));
    for (const output of this.#outputs) graph.message(12, (w) => writeValueInfo(w, output));
  }
}

function writeSubgraph(graph: ProtoWriter, sub: Subgraph): void {
  for (const node of sub.nodes) graph.message(1, (w) => writeNode(w, node));
  graph.string(2, sub.name);
  for (const output of sub.outputs) graph.message(12, (w) => writeValueInfo(w, output));
}

function writeNode(w: ProtoWriter, node: NodeRecord): void {
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes)) {
    w.message(5, (a) => writeAttribute(a, name, value));
  }
  if (node.domain) w.string(7, node.domain);
}

// AttributeProto.AttributeType codes.
const ATTR_FLOAT = 1,
  ATTR_INT = 2,
  ATTR_STRING = 3,
  ATTR_TENSOR = 4,
  ATTR_GRAPH = 5,
  ATTR_FLOATS = 6,
  ATTR_INTS = 7;

function writeAttribute(w: ProtoWriter, name: string, value: Attribute): void {
  w.string(1, name);
  if (typeof value === "number") {
    w.int64(3, value).int64(20, ATTR_INT);
  } else if (typeof value === "string") {
    w.string(4, value).int64(20, ATTR_STRING);
  } else if (isIntList(value)) {
    for (const v of value) w.int64(8, v);
    w.int64(20, ATTR_INTS);
  } else if ("float" in value) {
    w.float(2, value.float).int64(20, ATTR_FLOAT);
  } else if ("floats" in value) {
    for (const v of value.floats) w.float(7, v);
    w.int64(20, ATTR_FLOATS);
  } else if ("graph" in value) {
    w.message(6, (gw) => writeSubgraph(gw, value.graph)).int64(20, ATTR_GRAPH);
  } else {
    const t = value.tensor;
    w.message(5, (tw) => writeTensor(tw, { name: "", ...t })).int64(20, ATTR_TENSOR);
  }
}

function isIntList(value: Attribute): value is readonly number[] {
  return Array.isArray(value);
}

function writeTensor(w: ProtoWriter, tensor: InitializerRecord): void {
  for (const d of tensor.dims) w.int64(1, d);
  w.int64(2, ELEMENT_TYPES[tensor.type]);
  if (tensor.name) w.string(8, tensor.name);
  const data = tensor.data;
  // raw_data is little-endian, which is what typed arrays hold on x86 and ARM.
  w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function writeValueInfo(w: ProtoWriter, info: ValueInfoRecord): void {
  w.string(1, info.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int64(1, ELEMENT_TYPES[info.type]);
      const dims = info.dims;
      if (!dims) return;
      tensorType.message(2, (shape) => {
        for (const d of dims) {
          shape.message(1, (dim) => (typeof d === "number" ? dim.int64(1, d) : dim.string(2, d)));
        }
      });
    }));
}
