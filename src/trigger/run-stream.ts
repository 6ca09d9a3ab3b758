// One pass of the stream trigger over a TP stream: batches in, candidates out as they are final,
// the figures from the stream's truth and the real-time figures at the end. Stops cleanly between
// batches when control.stop is set (Ctrl-C), with everything decided so far written.
import type { TpStream } from '../sim/tp-stream.js';
import type { ImageLayout } from '../sim/image.js';
import {
  realTimeFigures,
  streamTriggerReport,
  StreamTrigger,
  type RealTimeFigures,
  type StreamSummary,
  type StreamTriggerReport,
  type TriggerCandidate,
  type WindowDetector,
  type FaceWindow,
} from './stream.js';

export interface StreamTriggerRun {
  detector: string;
  windowTicks: number;
  overlapTicks: number;
  strideTicks: number;
  summary: StreamSummary;
  realTime: RealTimeFigures;
  /** From the stream's truth (absent without it). */
  trigger?: StreamTriggerReport;
  stopped: boolean;
}

export interface RunStreamOptions {
  layout: ImageLayout;
  windowTicks: number;
  overlapTicks: number;
  reorderTicks?: number;
  batchWindows?: number;
  detector: WindowDetector;
  prefilter?: (w: FaceWindow) => boolean;
  /** Score of written candidates and of the efficiency table. */
  threshold: number;
  tickSeconds: number;
  /** Cores the detector uses (libtorch threads), for cores per module. */
  cores: number;
  channelOf?: (face: number, wire: number) => number;
  control?: { stop: boolean };
  onCandidate: (c: TriggerCandidate) => void;
  targetsHz?: number[];
  /** TPs read so far, after each batch (progress). */
  onProgress?: (tps: number) => void;
}

export async function runStreamTrigger(stream: TpStream, o: RunStreamOptions): Promise<StreamTriggerRun> {
  const truth = stream.header.hasTruth;
  const trig = new StreamTrigger({
    layout: o.layout,
    windowTicks: o.windowTicks,
    overlapTicks: o.overlapTicks,
    reorderTicks: o.reorderTicks ?? o.windowTicks,
    batchWindows: o.batchWindows ?? 16,
    detector: o.detector,
    originDts: stream.header.originDts,
    channelOf: o.channelOf,
    prefilter: o.prefilter,
    truth,
    emitThreshold: o.threshold,
    onCandidate: o.onCandidate,
  });
  let stopped = false;
  let read = 0;
  for await (const b of stream.batches) {
    await trig.push(b.tps, b.interactions);
    read += b.tps.n;
    o.onProgress?.(read);
    // Simulating on this thread never returns to the event loop by itself: let a Ctrl-C handler run.
    await new Promise<void>((r) => setImmediate(r));
    if (o.control?.stop) {
      stopped = true;
      break;
    }
  }
  const summary = await trig.finish();
  const stride = o.windowTicks - o.overlapTicks;
  const seconds = summary.streamTicks * o.tickSeconds;
  return {
    detector: o.detector.name,
    windowTicks: o.windowTicks,
    overlapTicks: o.overlapTicks,
    strideTicks: stride,
    summary,
    realTime: realTimeFigures(summary, o.tickSeconds, stride, o.cores),
    ...(truth ? { trigger: streamTriggerReport(trig.figures, summary.faces, seconds, o.threshold, o.targetsHz) } : {}),
    stopped,
  };
}
