// Accepts a keras-yolo3 (experiencor) config.json and maps it onto daqyolo's training config,
// with a message for every key that has no equivalent.

export interface KerasMapping {
  config: Record<string, unknown>;
  messages: string[];
}

/** True when the object looks like a keras-yolo3 config (model/train/valid sections). */
export function isKerasYolo3Config(raw: unknown): boolean {
  if (!raw || typeof raw !== 'object') return false;
  const r = raw as Record<string, Record<string, unknown> | undefined>;
  return Boolean((r.model && ('min_input_size' in r.model || 'labels' in r.model)) || (r.train && 'batch_size' in r.train));
}

export function mapKerasYolo3Config(raw: Record<string, Record<string, unknown>>): KerasMapping {
  const messages: string[] = [];
  const cfg: Record<string, Record<string, unknown> | unknown> = {};
  const model: Record<string, unknown> = {};
  const loss: Record<string, unknown> = {};
  const multiScale: Record<string, unknown> = {};
  const m = raw.model ?? {};
  const t = raw.train ?? {};
  const v = raw.valid ?? {};
  const handled = new Set<string>();
  const take = (section: string, key: string) => {
    handled.add(`${section}.${key}`);
  };

  if ('anchors' in m) {
    const a = m.anchors as number[];
    if (!Array.isArray(a) || a.length % 2) messages.push('model.anchors: expected a flat list of w,h pairs; ignored');
    else model.anchors = Array.from({ length: a.length / 2 }, (_, i) => [a[2 * i], a[2 * i + 1]]);
    take('model', 'anchors');
  }
  if ('min_input_size' in m || 'max_input_size' in m) {
    const lo = Number(m.min_input_size ?? 288);
    const hi = Number(m.max_input_size ?? 448);
    Object.assign(multiScale, { enabled: lo !== hi, min: lo, max: hi, every: 10 });
    model.size = Math.round((lo + hi) / 64) * 32; // keras-yolo3 evaluates at 416 by default; the middle of the range here
    take('model', 'min_input_size');
    take('model', 'max_input_size');
  }
  if ('labels' in m) {
    messages.push(`model.labels ${JSON.stringify(m.labels)}: daqyolo takes class names from the dataset`);
    take('model', 'labels');
  }
  const direct: [string, string, (x: unknown) => void][] = [
    [
      'batch_size',
      'batch',
      (x) => {
        cfg.batch = x;
      },
    ],
    [
      'learning_rate',
      'optimizer.lr',
      (x) => {
        cfg.optimizer = { lr: x };
      },
    ],
    [
      'nb_epochs',
      'epochs',
      (x) => {
        cfg.epochs = x;
      },
    ],
    [
      'warmup_epochs',
      'warmupEpochs',
      (x) => {
        cfg.warmupEpochs = x;
      },
    ],
    [
      'ignore_thresh',
      'loss.ignoreThresh',
      (x) => {
        loss.ignoreThresh = x;
      },
    ],
    [
      'grid_scales',
      'loss.gridScales',
      (x) => {
        loss.gridScales = x;
      },
    ],
    [
      'obj_scale',
      'loss.objScale',
      (x) => {
        loss.objScale = x;
      },
    ],
    [
      'noobj_scale',
      'loss.noobjScale',
      (x) => {
        loss.noobjScale = x;
      },
    ],
    [
      'xywh_scale',
      'loss.xywhScale',
      (x) => {
        loss.xywhScale = x;
      },
    ],
    [
      'class_scale',
      'loss.classScale',
      (x) => {
        loss.classScale = x;
      },
    ],
  ];
  for (const [key, , set] of direct)
    if (key in t) {
      set(t[key]);
      take('train', key);
    }
  if ('gpus' in t) {
    const g = String(t.gpus).trim();
    if (g) {
      cfg.device = `cuda:${g.split(',')[0]}`;
      if (g.includes(',')) messages.push(`train.gpus "${g}": daqyolo trains on one device per run (cuda:${g.split(',')[0]}); use torch.distributed for more`);
    }
    take('train', 'gpus');
  }
  const noEquivalent: Record<string, string> = {
    'train.train_image_folder': 'use `daqyolo import voc` to make a dataset, then --data',
    'train.train_annot_folder': 'use `daqyolo import voc` to make a dataset, then --data',
    'train.cache_name': 'datasets are HDF5 files; no annotation cache is needed',
    'train.train_times': 'repeats the training set within an epoch; use more epochs instead',
    'train.tensorboard_dir': 'metrics go to <run>/metrics.jsonl and `daqyolo report`',
    'train.saved_weights_name': 'checkpoints go to <run>/checkpoints/{last,best}.safetensors',
    'train.debug': 'every loss term is always logged',
    'valid.valid_image_folder': "validation uses the dataset's val split",
    'valid.valid_annot_folder': "validation uses the dataset's val split",
    'valid.cache_name': 'no annotation cache is needed',
    'valid.valid_times': 'validation runs once per epoch over the whole val split',
  };
  for (const [section, obj] of [
    ['model', m],
    ['train', t],
    ['valid', v],
  ] as const) {
    for (const key of Object.keys(obj)) {
      const k = `${section}.${key}`;
      if (handled.has(k)) continue;
      messages.push(`${k}: no equivalent in daqyolo${noEquivalent[k] ? ` (${noEquivalent[k]})` : ''}; ignored`);
    }
  }
  for (const section of Object.keys(raw)) {
    if (!['model', 'train', 'valid'].includes(section)) messages.push(`${section}: unknown keras-yolo3 section; ignored`);
  }
  if (Object.keys(model).length) cfg.model = model;
  if (Object.keys(loss).length) cfg.loss = loss;
  if (Object.keys(multiScale).length) cfg.multiScale = multiScale;
  return { config: cfg, messages };
}
