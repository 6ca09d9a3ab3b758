// What every format reader hands to the importer: one record per image (its file, the annotation
// file it came from, boxes with class indices) or a bad record naming the file and the problem.
import type { SplitName } from '../data/splits.js';
import { UserError } from '../errors.js';

/** A box in source pixels ([x1, y1, x2, y2], x2/y2 exclusive) or normalised to the image size. */
export interface SourceBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  cls: number;
  /** VOC's difficult flag: kept in /boxes/difficult, ignored by the mAP figures (devkit semantics). */
  difficult?: boolean;
}

export interface SourceRecord {
  /** Path of the image file. */
  image: string;
  /** Name kept in the dataset (path relative to the images folder). */
  name: string;
  /** The file the boxes came from (null for an image without labels). */
  annotation: string | null;
  boxes: SourceBox[];
  /** 'normalised' boxes (YOLO txt) are multiplied by the image size once it is known. */
  units: 'pixels' | 'normalised';
  /** Width and height the annotation declares (COCO "images"), checked against the file. */
  declaredSize?: { width: number; height: number };
  /** The split the source put the image in, if it has splits. */
  split?: SplitName;
}

/** A record that cannot be imported: the file and what is wrong with it, in one line. */
export class BadRecord {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {}
  get message(): string {
    return `${this.file}: ${this.problem}`;
  }
}

export interface Collected {
  records: (SourceRecord | BadRecord)[];
  classNames: string[];
  /** Where the class names came from (for the report). */
  classSource: string;
  /** Things the reader dropped on purpose, by kind (e.g. COCO crowd boxes), for the report. */
  dropped?: Record<string, number>;
}

/** Parses "a,b,c" (from --labels) into names; empty entries and duplicates are refused. */
export function parseLabels(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  if (names.some((n) => !n)) throw new UserError(`--labels: empty class name in "${text}"`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UserError(`--labels: class "${dup}" appears twice`);
  return names;
}

/** Maps source split folder names to the dataset's (the dataset calls the test split "eval"). */
export function splitFromName(name: string): SplitName | undefined {
  const n = name.toLowerCase();
  if (n === 'train' || n === 'training') return 'train';
  if (n === 'val' || n === 'valid' || n === 'validation') return 'val';
  if (n === 'test' || n === 'eval') return 'eval';
  return undefined;
}
