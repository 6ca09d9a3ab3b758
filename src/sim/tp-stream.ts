// The one trigger-primitive record type of a continuous TP stream, shared by everything that moves
// TPs between daqyolo and DUNE's files: the importers and exporters of DUNE's TP formats
// (formats/), the stream simulator (`simulate --stream`) and the stream trigger (trigger/).
//
// Why columns: a stream holds 10^7 and more TPs, read and windowed on the hot path, so TPs travel in
// batches of typed-array columns (as the simulator's per-image TpList does), never as objects.
//
// Units. Times are offline ticks of 0.5 µs (the simulator's and LArSoft's unit; PHYSICS.md), as
// float64 counted from the stream's origin: DAQ files count DTS ticks of 16 ns (62.5 MHz; one ADC
// sample = 32 DTS ticks, trgdataformats `Types.hpp`), so one DTS tick is 1/31.25 offline tick, a
// fraction float64 holds exactly enough (2^-52 relative) and that round-trips through
// Math.round(t * 31.25). The origin is kept once per stream as a DTS timestamp (bigint: real DAQ
// timestamps, ≈ 1e17 ticks since 1970, are beyond float64's exact integers).
import type { Owner } from './deposits.js';

/** DTS ticks (62.5 MHz, far detector and ProtoDUNE-II) per offline tick of 0.5 µs. */
export const DTS_PER_TICK = 31.25;

/** Owner of a TP whose source file carries no truth (real DAQ data). */
export const UNKNOWN_OWNER: Owner = -2000;

/** Which APA face a TP is on: face id = 2·apa + drift face (FD-HD offline numbering, one collection
 *  plane of 480 wires per drift face). */
export const faceId = (apa: number, driftFace: number): number => 2 * apa + driftFace;

/** The columns of one batch of TPs, rows in non-decreasing timeStart within each face. */
export interface TpBatch {
  n: number;
  /** faceId(apa, drift face). */
  face: Int32Array;
  /** Collection wire within the face, 0‥479: the image's column unit, as the simulator's `channel`. */
  wire: Int32Array;
  /** The detector channel number as the source numbers it (offline or online). */
  channel: Int32Array;
  /** 0 U, 1 V, 2 collection (X). Only collection TPs make images by default. */
  plane: Int8Array;
  /** Offline ticks from the stream's origin. */
  timeStart: Float64Array;
  timePeak: Float64Array;
  timeOverThreshold: Float64Array;
  adcIntegral: Float32Array;
  adcPeak: Float32Array;
  /** DAQ fields kept for round trips (0 where the source has none). */
  detid: Int32Array;
  algorithm: Int32Array;
  flag: Int32Array;
  /** TriggerPrimitive::Type (0 unknown, 1 TPC, 2 PDS; trgdataformats v1), 1 where the source has none. */
  type: Int32Array;
  /** Origin: index of the TP's file in the header's `sources` (-1 for simulation). */
  source: Int32Array;
  /** Origin: the source's event (TPStreamer) or record number (DAQ HDF5), -1 where it has none. */
  record: Int32Array;
  /** Truth: ≥ 0 the stream-wide id of a signal interaction (see TpInteraction), < 0 a background
   *  source (sim/deposits.ts Owner codes: bgOwner(s), NOISE_OWNER), UNKNOWN_OWNER without truth. */
  owner: Int32Array;
}

/** One signal (MARLEY νe-CC) interaction of a stream with truth. */
export interface TpInteraction {
  /** Stream-wide id, the `owner` of its TPs. */
  id: number;
  /** Its face (an interaction spanning two faces is listed once per face with the same id). */
  face: number;
  /** Interaction time, offline ticks from the origin. */
  time: number;
  energyMeV: number;
  /** The electron's energy (TPStreamer's Ee), NaN when unknown. */
  electronMeV: number;
  /** Where it came from: source file and event (or 'sim'). */
  origin: string;
}

/** What a stream says about itself before its first batch. */
export interface TpStreamHeader {
  /** DTS timestamp of tick 0 (0n for simulation and offline dumps). */
  originDts: bigint;
  /** Files or 'sim:…', for provenance in outputs. */
  sources: string[];
  /** Whether owners are truth (simulation, TPStreamer dumps) or UNKNOWN_OWNER (DAQ data). */
  hasTruth: boolean;
}

/** A stream: a header, batches in time order per face, and the signal interactions with truth as
 *  they are met (each one before or with the batch holding its first TP). */
export interface TpStream {
  header: TpStreamHeader;
  batches: AsyncIterable<{ tps: TpBatch; interactions: TpInteraction[] }>;
}

/** An empty batch with room for `capacity` rows. */
export function allocTpBatch(capacity: number): TpBatch {
  return {
    n: 0,
    face: new Int32Array(capacity),
    wire: new Int32Array(capacity),
    channel: new Int32Array(capacity),
    plane: new Int8Array(capacity),
    timeStart: new Float64Array(capacity),
    timePeak: new Float64Array(capacity),
    timeOverThreshold: new Float64Array(capacity),
    adcIntegral: new Float32Array(capacity),
    adcPeak: new Float32Array(capacity),
    detid: new Int32Array(capacity),
    algorithm: new Int32Array(capacity),
    flag: new Int32Array(capacity),
    type: new Int32Array(capacity),
    source: new Int32Array(capacity),
    record: new Int32Array(capacity),
    owner: new Int32Array(capacity),
  };
}
