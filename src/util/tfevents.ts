// TensorBoard event files written without TensorFlow: no maintained Node writer exists on the npm
// registry (checked Dec 2026: `tensorboard`, `tensorboardx`, `tfevents`, `tensorboard-logger` do
// not exist; @tensorflow/tfjs-node's summary writer needs the whole libtensorflow binary), so the
// format is written here from its published definitions:
// - records: TFRecord framing, as tensorflow/core/lib/io/record_writer.cc writes it —
//   uint64 length (LE), uint32 masked CRC32C of the length, data, uint32 masked CRC32C of the data;
// - messages: the Event, Summary, HistogramProto, TensorProto and TensorShapeProto of
//   github.com/tensorflow/tensorboard tensorboard/compat/proto/{event,summary,histogram,tensor,
//   tensor_shape}.proto, field numbers as published there, encoded by protobufjs from the JSON
//   descriptor below (no generated code, no hand-rolled wire format).
// Records are buffered and written by flush() (the trainer flushes after each epoch and at stop);
// bytes() is the file's size after the last flush, which a checkpoint keeps so that a resumed run
// can cut the file back to it (truncate()), as it cuts metrics.jsonl.
import { closeSync, existsSync, fsyncSync, openSync, statSync, truncateSync, writeSync } from 'node:fs';
import protobuf from 'protobufjs';

const f = (id: number, type: string) => ({ id, type });
const rep = (id: number, type: string, packed: boolean) => ({ id, type, rule: 'repeated', options: { packed } });

export const TENSORBOARD_DESCRIPTOR = {
  nested: {
    tensorboard: {
      nested: {
        // event.proto
        Event: {
          oneofs: { what: { oneof: ['fileVersion', 'summary'] } },
          fields: { wallTime: f(1, 'double'), step: f(2, 'int64'), fileVersion: f(3, 'string'), summary: f(5, 'Summary') },
        },
        // summary.proto
        SummaryMetadata: {
          fields: { pluginData: f(1, 'PluginData'), displayName: f(2, 'string'), summaryDescription: f(3, 'string'), dataClass: f(4, 'int32') },
          nested: { PluginData: { fields: { pluginName: f(1, 'string'), content: f(2, 'bytes') } } },
        },
        Summary: {
          fields: { value: rep(1, 'Value', false) },
          nested: {
            Value: {
              oneofs: { value: { oneof: ['simpleValue', 'histo', 'tensor'] } },
              fields: {
                tag: f(1, 'string'),
                simpleValue: f(2, 'float'),
                histo: f(5, 'HistogramProto'),
                tensor: f(8, 'TensorProto'),
                metadata: f(9, 'SummaryMetadata'),
              },
            },
          },
        },
        // histogram.proto
        HistogramProto: {
          fields: {
            min: f(1, 'double'),
            max: f(2, 'double'),
            num: f(3, 'double'),
            sum: f(4, 'double'),
            sumSquares: f(5, 'double'),
            bucketLimit: rep(6, 'double', true),
            bucket: rep(7, 'double', true),
          },
        },
        // tensor.proto, tensor_shape.proto (types.proto: DT_STRING = 7)
        TensorProto: { fields: { dtype: f(1, 'int32'), tensorShape: f(2, 'TensorShapeProto'), stringVal: rep(8, 'bytes', false) } },
        TensorShapeProto: { fields: { dim: rep(2, 'Dim', false) }, nested: { Dim: { fields: { size: f(1, 'int64'), name: f(2, 'string') } } } },
      },
    },
  },
};

const DT_STRING = 7;
/** summary.proto DataClass. */
const DATA_CLASS_TENSOR = 2;

let root: protobuf.Root | null = null;
function eventType(): protobuf.Type {
  root ??= protobuf.Root.fromJSON(TENSORBOARD_DESCRIPTOR as protobuf.INamespace);
  return root.lookupType('tensorboard.Event');
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of TFRecord framing. */
const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC (tensorflow/core/lib/hash/crc32c.h Mask): rotate right by 15, add a constant. */
export function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, masked CRC of the length, data, masked CRC of the data. */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/** A histogram as HistogramProto holds it: bucket i counts values in (limit[i-1], limit[i]]. */
export interface Histogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}

/** Appends TensorBoard events to one file; records wait in memory until flush(). */
export class EventFileWriter {
  #pending: Buffer[] = [];
  readonly #now: () => number;

  /**
   * Opens `path` for appending. A new (or empty) file starts with the file_version event every
   * event file begins with ("brain.Event:2"); an existing one is appended to.
   */
  constructor(
    readonly path: string,
    o: { now?: () => number } = {},
  ) {
    this.#now = o.now ?? (() => Date.now() / 1000);
    if (!existsSync(path) || statSync(path).size === 0) {
      this.#event({ wallTime: this.#now(), step: 0, fileVersion: 'brain.Event:2' });
      this.flush();
    }
  }

  #event(e: Record<string, unknown>): void {
    const T = eventType();
    this.#pending.push(tfRecord(T.encode(T.fromObject(e)).finish()));
  }

  /** Scalars at one step (float32, as TensorBoard stores them). */
  scalars(step: number, values: Record<string, number>): void {
    const value = Object.entries(values)
      .filter(([, v]) => Number.isFinite(v))
      .map(([tag, simpleValue]) => ({ tag, simpleValue }));
    if (value.length) this.#event({ wallTime: this.#now(), step, summary: { value } });
  }

  histogram(step: number, tag: string, h: Histogram): void {
    this.#event({ wallTime: this.#now(), step, summary: { value: [{ tag, histo: h }] } });
  }

  /** Markdown text for TensorBoard's text plugin (a rank-0 DT_STRING tensor tagged for plugin "text"). */
  text(step: number, tag: string, markdown: string): void {
    this.#event({
      wallTime: this.#now(),
      step,
      summary: {
        value: [
          {
            tag,
            metadata: { pluginData: { pluginName: 'text' }, dataClass: DATA_CLASS_TENSOR },
            tensor: { dtype: DT_STRING, tensorShape: {}, stringVal: [Buffer.from(markdown, 'utf8')] },
          },
        ],
      },
    });
  }

  /** Writes the pending records and syncs them to disk. */
  flush(): void {
    if (!this.#pending.length) return;
    const fd = openSync(this.path, 'a');
    try {
      writeSync(fd, Buffer.concat(this.#pending));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.#pending = [];
  }

  /** The file's size in bytes after the last flush. */
  bytes(): number {
    return existsSync(this.path) ? statSync(this.path).size : 0;
  }

  /** Cuts the file back to `bytes` (a resumed run: what its checkpoint saw) and drops pending records. */
  truncate(bytes: number): void {
    this.#pending = [];
    if (existsSync(this.path) && statSync(this.path).size > bytes) truncateSync(this.path, bytes);
  }
}

/** The counts of `values` in `bins` equal bins over [0, 1], as HistogramProto (limits at the upper edges). */
export function unitHistogram(counts: readonly number[], values: readonly number[]): Histogram {
  const bins = counts.length;
  let min = Infinity,
    max = -Infinity,
    sum = 0,
    sumSquares = 0;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
    sumSquares += v * v;
  }
  if (!values.length) {
    min = 0;
    max = 0;
  }
  return { min, max, num: values.length, sum, sumSquares, bucketLimit: counts.map((_, k) => (k + 1) / bins), bucket: [...counts] };
}
