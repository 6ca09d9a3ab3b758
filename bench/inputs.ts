// The images a benchmark feeds the network: random normal values (every pixel active, the
// dense worst case), random sparse images with a given number of active pixels, or the first
// images of a dataset's training split (what the user's own data costs).
import { openDataset } from '../src/data/store.js';
import { UserError } from '../src/errors.js';
import { randomImages } from '../src/study/step-time.js';

export interface BenchInputOptions {
  batch: number;
  size: number;
  seed: number;
  /** HDF5 dataset: its first `batch` training images (1 channel, `size` × `size`). */
  data?: string;
  /** Random images with this many active pixels each (values in [1, 2) at uniform positions). */
  active?: number;
}

/** [batch, 1, size, size] values and the mean number of non-zero pixels per image. */
export function benchImages(o: BenchInputOptions): { images: Float32Array; activePerImage: number } {
  let images: Float32Array;
  if (o.data) {
    const reader = openDataset(o.data);
    try {
      if (reader.channels !== 1 || reader.height !== o.size || reader.width !== o.size) {
        throw new UserError(
          `${o.data}: images are [${reader.channels}, ${reader.height}, ${reader.width}]; the benchmark needs [1, ${o.size}, ${o.size}] (give --size ${reader.height} for a square 1-channel dataset)`,
        );
      }
      const train = reader.split('train');
      if (train.length < o.batch) throw new UserError(`${o.data}: the training split has ${train.length} images, fewer than --batch ${o.batch}`);
      images = reader.readDense(Array.from(train.slice(0, o.batch)));
    } finally {
      reader.close();
    }
  } else {
    images = randomImages(o);
  }
  let nz = 0;
  for (let i = 0; i < images.length; i++) if (images[i] !== 0) nz++;
  return { images, activePerImage: nz / o.batch };
}
