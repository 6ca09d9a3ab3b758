// The part of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto, proto2 syntax, field numbers as
// published) that a static CNN graph needs, as a protobufjs JSON descriptor. protobufjs encodes it;
// no generated code is kept in the repository.
import protobuf from 'protobufjs';

const f = (id: number, type: string, rule?: 'repeated') => (rule ? { id, type, rule, options: { packed: false } } : { id, type });
const packed = (id: number, type: string) => ({ id, type, rule: 'repeated', options: { packed: true } });

export const ONNX_DESCRIPTOR = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: f(1, 'string'),
            f: f(2, 'float'),
            i: f(3, 'int64'),
            s: f(4, 'bytes'),
            t: f(5, 'TensorProto'),
            floats: packed(7, 'float'),
            ints: packed(8, 'int64'),
            strings: f(9, 'bytes', 'repeated'),
            docString: f(13, 'string'),
            type: f(20, 'AttributeType'),
          },
          nested: { AttributeType: { values: { UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } } },
        },
        ValueInfoProto: { fields: { name: f(1, 'string'), type: f(2, 'TypeProto'), docString: f(3, 'string') } },
        NodeProto: {
          fields: {
            input: f(1, 'string', 'repeated'),
            output: f(2, 'string', 'repeated'),
            name: f(3, 'string'),
            opType: f(4, 'string'),
            attribute: f(5, 'AttributeProto', 'repeated'),
            docString: f(6, 'string'),
            domain: f(7, 'string'),
          },
        },
        ModelProto: {
          fields: {
            irVersion: f(1, 'int64'),
            producerName: f(2, 'string'),
            producerVersion: f(3, 'string'),
            domain: f(4, 'string'),
            modelVersion: f(5, 'int64'),
            docString: f(6, 'string'),
            graph: f(7, 'GraphProto'),
            opsetImport: f(8, 'OperatorSetIdProto', 'repeated'),
          },
        },
        GraphProto: {
          fields: {
            node: f(1, 'NodeProto', 'repeated'),
            name: f(2, 'string'),
            initializer: f(5, 'TensorProto', 'repeated'),
            docString: f(10, 'string'),
            input: f(11, 'ValueInfoProto', 'repeated'),
            output: f(12, 'ValueInfoProto', 'repeated'),
            valueInfo: f(13, 'ValueInfoProto', 'repeated'),
          },
        },
        TensorProto: {
          fields: {
            dims: packed(1, 'int64'),
            dataType: f(2, 'int32'),
            floatData: packed(4, 'float'),
            int64Data: packed(7, 'int64'),
            name: f(8, 'string'),
            rawData: f(9, 'bytes'),
            docString: f(12, 'string'),
          },
          nested: { DataType: { values: { UNDEFINED: 0, FLOAT: 1, INT64: 7 } } },
        },
        TensorShapeProto: {
          fields: { dim: f(1, 'Dimension', 'repeated') },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: f(1, 'int64'), dimParam: f(2, 'string'), denotation: f(3, 'string') },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: f(1, 'Tensor'), denotation: f(6, 'string') },
          nested: { Tensor: { fields: { elemType: f(1, 'int32'), shape: f(2, 'TensorShapeProto') } } },
        },
        OperatorSetIdProto: { fields: { domain: f(1, 'string'), version: f(2, 'int64') } },
      },
    },
  },
};

let root: protobuf.Root | null = null;
/** The ONNX message types (built once). */
export function onnxTypes(): { ModelProto: protobuf.Type } {
  root ??= protobuf.Root.fromJSON(ONNX_DESCRIPTOR as protobuf.INamespace);
  return { ModelProto: root.lookupType('onnx.ModelProto') };
}
