// The dataset's HDF5 layout, defined once: every group, dataset path, element type, row width,
// chunking and root attribute that the writer creates and the store, the checks and the importer
// read (README "Dataset format" describes it for users). A new column is one row of COLUMNS: the
// writer creates and fills it from the packed chunk field named there, in this order.
import type { PackedChunk } from '../sim/pack.js';

export const FORMAT_VERSION = 1;
export const FORMAT_NAME = 'daqyolo-dataset';

/** Groups, in creation order; `tps` only when the dataset stores TPs. */
export const GROUPS = ['images', 'boxes', 'interactions', 'background', 'splits'] as const;
export const TPS_GROUP = 'tps';

/** Every dataset path. Rows of a table are indexed through its group's `offsets` (CSR). */
export const PATHS = {
  imageOffsets: 'images/offsets',
  imagePixel: 'images/pixel',
  imageValue: 'images/value',
  imageDense: 'images/dense',
  imageSeed: 'images/seed',
  boxOffsets: 'boxes/offsets',
  boxXyxy: 'boxes/xyxy',
  boxClass: 'boxes/class',
  boxInteraction: 'boxes/interaction',
  boxProcess: 'boxes/process',
  boxNTps: 'boxes/n_tps',
  boxEnergy: 'boxes/energy_mev',
  boxVisible: 'boxes/visible_energy_mev',
  /** Optional: VOC's `difficult` flag, written by imports only. */
  boxDifficult: 'boxes/difficult',
  interactionOffsets: 'interactions/offsets',
  interactionEnergy: 'interactions/energy_mev',
  interactionVisible: 'interactions/visible_energy_mev',
  interactionProcess: 'interactions/process',
  interactionNTps: 'interactions/n_tps',
  interactionBox: 'interactions/box',
  interactionVertex: 'interactions/vertex',
  tpOffsets: 'tps/offsets',
  tpChannel: 'tps/channel',
  tpTimeStart: 'tps/time_start',
  tpTimePeak: 'tps/time_peak',
  tpTimeOverThreshold: 'tps/time_over_threshold',
  tpOwner: 'tps/owner',
  tpAdcIntegral: 'tps/adc_integral',
  tpAdcPeak: 'tps/adc_peak',
  backgroundDecays: 'background/decays',
  backgroundTpsBySource: 'background/tps_by_source',
  /** Imports only: each image's source file, its size [w, h], the letterbox [sx, sy, dx, dy] and the import report (JSON). */
  /** Imported TPs only (daqyolo import tps): each image's [window index, face] and the whole TP
   *  table (every TP of every plane, stream-wide owners, origin), see TP_IMPORT_COLUMNS. */
  importTpWindow: 'import/tp_window',
  importTpInteractions: 'import/tp_interactions',
  importTpInteractionOrigin: 'import/tp_interaction_origin',
  importTpSources: 'import/tp_sources',
  importSourceFile: 'import/source_file',
  importSourceSize: 'import/source_size',
  importTransform: 'import/transform',
  importReport: 'import/report',
} as const;

/** The split index list of one split. */
export const splitPath = (name: string) => `splits/${name}`;

/** The attribute on a background table naming its columns. */
export const COLUMNS_ATTRIBUTE = 'columns';

/** Rows per chunk of a 1-D column; a 2-D column's chunks hold a quarter as many rows. */
export const CHUNK_ROWS = 1 << 15;

export type ColumnType = 'i4' | 'u4' | 'f4' | 'f8';

/** h5wasm's dtype codes (Python struct style) for the column types. */
export const H5_DTYPE: Record<ColumnType, string> = { i4: '<i', u4: '<I', f4: '<f', f8: '<d' };

/**
 * The imported TP table (`daqyolo import tps`), one row per TP of the source in stream order, every
 * field kept: times in offline ticks (0.5 µs) from the origin (the root attribute tp_origin_dts),
 * `owner` stream-wide (≥ 0: the id in import/tp_interactions), origin = source file index
 * (import/tp_sources), event or record number; `image` = the image it landed in (-1: a plane not
 * imaged). The images' own TPs (tps/*, image-relative ticks, image-local owners) are the simulator's.
 */
export const TP_IMPORT_COLUMNS = [
  { path: 'import/tps/face', type: 'i4', field: 'face' },
  { path: 'import/tps/wire', type: 'i4', field: 'wire' },
  { path: 'import/tps/channel', type: 'i4', field: 'channel' },
  { path: 'import/tps/plane', type: 'i4', field: 'plane' },
  { path: 'import/tps/time_start', type: 'f8', field: 'timeStart' },
  { path: 'import/tps/time_peak', type: 'f8', field: 'timePeak' },
  { path: 'import/tps/time_over_threshold', type: 'f8', field: 'timeOverThreshold' },
  { path: 'import/tps/adc_integral', type: 'f4', field: 'adcIntegral' },
  { path: 'import/tps/adc_peak', type: 'f4', field: 'adcPeak' },
  { path: 'import/tps/detid', type: 'i4', field: 'detid' },
  { path: 'import/tps/algorithm', type: 'i4', field: 'algorithm' },
  { path: 'import/tps/flag', type: 'i4', field: 'flag' },
  { path: 'import/tps/type', type: 'i4', field: 'type' },
  { path: 'import/tps/source', type: 'i4', field: 'source' },
  { path: 'import/tps/record', type: 'i4', field: 'record' },
  { path: 'import/tps/owner', type: 'i4', field: 'owner' },
  { path: 'import/tps/image', type: 'i4', field: 'image' },
] as const satisfies readonly { path: string; type: ColumnType; field: string }[];

/** import/tp_interactions columns ([n, 6] float64): one row per interaction and face. */
export const TP_INTERACTION_COLUMNS = ['id', 'face', 'time_ticks', 'energy_mev', 'electron_mev', 'image'] as const;

type ChunkArray = Int32Array | Uint32Array | Float32Array;

/** A growable column: its element type, its row width (undefined: 1-D; 'channels': one value per channel). */
export interface ColumnSpec {
  path: string;
  type: ColumnType;
  width?: number | 'channels';
  /** sparse: only in the sparse image layout; tps: only when TPs are stored. */
  when: 'always' | 'sparse' | 'tps';
  /** Its values in a packed chunk of images. */
  from: (c: PackedChunk) => ChunkArray;
}

const tps = (c: PackedChunk) => c.tps!;
/** Every growable column, in creation order (the dense image array is not one: see DENSE_IMAGES). */
export const COLUMNS: readonly ColumnSpec[] = [
  { path: PATHS.imagePixel, type: 'i4', when: 'sparse', from: (c) => c.pixels },
  { path: PATHS.imageValue, type: 'f4', width: 'channels', when: 'sparse', from: (c) => c.values },
  { path: PATHS.imageSeed, type: 'u4', when: 'always', from: (c) => c.seeds },
  { path: PATHS.boxXyxy, type: 'f4', width: 4, when: 'always', from: (c) => c.boxes },
  { path: PATHS.boxClass, type: 'i4', when: 'always', from: (c) => c.boxClass },
  { path: PATHS.boxInteraction, type: 'i4', when: 'always', from: (c) => c.boxInteraction },
  { path: PATHS.boxProcess, type: 'i4', when: 'always', from: (c) => c.boxProcess },
  { path: PATHS.boxNTps, type: 'i4', when: 'always', from: (c) => c.boxNTps },
  { path: PATHS.boxEnergy, type: 'f4', when: 'always', from: (c) => c.boxEnergy },
  { path: PATHS.boxVisible, type: 'f4', when: 'always', from: (c) => c.boxVisible },
  { path: PATHS.interactionEnergy, type: 'f4', when: 'always', from: (c) => c.intEnergy },
  { path: PATHS.interactionVisible, type: 'f4', when: 'always', from: (c) => c.intVisible },
  { path: PATHS.interactionProcess, type: 'i4', when: 'always', from: (c) => c.intProcess },
  { path: PATHS.interactionNTps, type: 'i4', when: 'always', from: (c) => c.intNTps },
  { path: PATHS.interactionBox, type: 'i4', when: 'always', from: (c) => c.intBox },
  { path: PATHS.interactionVertex, type: 'f4', width: 3, when: 'always', from: (c) => c.intVertex },
  { path: PATHS.tpChannel, type: 'i4', when: 'tps', from: (c) => tps(c).channel },
  { path: PATHS.tpTimeStart, type: 'i4', when: 'tps', from: (c) => tps(c).timeStart },
  { path: PATHS.tpTimePeak, type: 'i4', when: 'tps', from: (c) => tps(c).timePeak },
  { path: PATHS.tpTimeOverThreshold, type: 'i4', when: 'tps', from: (c) => tps(c).timeOverThreshold },
  { path: PATHS.tpOwner, type: 'i4', when: 'tps', from: (c) => tps(c).owner },
  { path: PATHS.tpAdcIntegral, type: 'f4', when: 'tps', from: (c) => tps(c).adcIntegral },
  { path: PATHS.tpAdcPeak, type: 'f4', when: 'tps', from: (c) => tps(c).adcPeak },
];

/** The dense layout's images: float32 [N, C, H, W], one image per chunk. */
export const DENSE_IMAGES = { path: PATHS.imageDense, dtype: '<f' } as const;

/** Datasets every file must have (besides the layout's images and the splits). */
export const REQUIRED = [
  PATHS.boxOffsets,
  PATHS.interactionOffsets,
  PATHS.boxXyxy,
  PATHS.boxClass,
  PATHS.boxInteraction,
  PATHS.interactionEnergy,
  PATHS.interactionBox,
] as const;

/** Root attributes the writer sets on every file (the caller adds config, class_names, process_names, …). */
export const ROOT_ATTRIBUTES = ['format', 'format_version', 'num_images', 'channels', 'height', 'width', 'layout'] as const;
