// Detector channel → (APA, plane, drift face, wire within the face): the FD-HD offline numbering by
// default, or a CSV file for any other detector (ProtoDUNE-HD online channels, vertical drift).
//
// FD-HD offline numbering (LArSoft's dune10kt geometries, e.g. dune10kt_1x2x6; see
// /work/shared/DUNE-TP-FORMATS.md "Channels" and duneana TPStreamer_module.cc at e83992d, which
// writes detid = channel / 2560): 2 560 channels per APA, U 0–799, V 800–1599, collection
// 1600–2079 for drift face 0 and 2080–2559 for drift face 1 (480 wires each). A 10 kt module has
// 150 APAs, so channels ≥ 384 000 are outside the map.
import { readFileSync } from 'node:fs';
import { UserError } from '../../errors.js';

export const CHANNELS_PER_APA = 2560;
export const FD_HD_APAS = 150;
const U_WIRES = 800,
  V_WIRES = 800,
  X_WIRES = 480;

export interface ChannelPlace {
  apa: number;
  /** 0 U, 1 V, 2 collection. */
  plane: number;
  /** Drift face 0 or 1 (induction wires wrap round both faces: face 0 is nominal for them). */
  face: number;
  wire: number;
}

export interface ChannelMap {
  /** What it is, for reports. */
  name: string;
  /** The place of a channel, or null when the map does not hold it. */
  place(channel: number): ChannelPlace | null;
  /** The channel at a place (for writers), or null. */
  channelOf(apa: number, plane: number, face: number, wire: number): number | null;
}

/** FD-HD offline numbering, 150 APAs. */
export const FD_HD_OFFLINE: ChannelMap = {
  name: 'FD-HD offline (2 560 channels per APA; collection 1600–2079 face 0, 2080–2559 face 1)',
  place(channel) {
    if (!Number.isInteger(channel) || channel < 0 || channel >= FD_HD_APAS * CHANNELS_PER_APA) return null;
    const apa = Math.floor(channel / CHANNELS_PER_APA);
    const r = channel - apa * CHANNELS_PER_APA;
    if (r < U_WIRES) return { apa, plane: 0, face: 0, wire: r };
    if (r < U_WIRES + V_WIRES) return { apa, plane: 1, face: 0, wire: r - U_WIRES };
    const x = r - U_WIRES - V_WIRES;
    return x < X_WIRES ? { apa, plane: 2, face: 0, wire: x } : { apa, plane: 2, face: 1, wire: x - X_WIRES };
  },
  channelOf(apa, plane, face, wire) {
    if (apa < 0 || apa >= FD_HD_APAS || wire < 0) return null;
    const base = apa * CHANNELS_PER_APA;
    if (plane === 0) return wire < U_WIRES ? base + wire : null;
    if (plane === 1) return wire < V_WIRES ? base + U_WIRES + wire : null;
    if (plane === 2 && (face === 0 || face === 1) && wire < X_WIRES) return base + U_WIRES + V_WIRES + face * X_WIRES + wire;
    return null;
  },
};

const PLANES: Record<string, number> = { '0': 0, '1': 1, '2': 2, u: 0, v: 1, x: 2, z: 2, c: 2 };

/**
 * A channel map from CSV: one line per channel `channel,apa,plane,face,wire`; plane 0/1/2 or
 * U/V/X (Z and C also mean collection); an optional header line starting with "channel"; '#'
 * starts a comment.
 */
export function readChannelMap(file: string): ChannelMap {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`--channel-map ${file}: ${(e as Error).message}`);
  }
  const byChannel = new Map<number, ChannelPlace>();
  const byPlace = new Map<string, number>();
  const key = (apa: number, plane: number, face: number, wire: number) => `${apa}/${plane}/${face}/${wire}`;
  const names = ['channel', 'apa', 'plane', 'face', 'wire'];
  text.split(/\r?\n/).forEach((raw, k) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line || /^channel\b/i.test(line)) return;
    const cols = line.split(/\s*,\s*|\s+/);
    const where = `${file}:${k + 1}`;
    if (cols.length !== 5) throw new UserError(`${where}: expected 5 columns (channel, apa, plane, face, wire), got ${cols.length}`);
    const v = cols.map((c, i) => {
      const x = i === 2 ? PLANES[c.toLowerCase()] : Number(c);
      if (x === undefined || !Number.isInteger(x) || x < 0)
        throw new UserError(`${where}: field ${names[i]} value "${c}" is not ${i === 2 ? 'a plane (0, 1, 2 or U, V, X)' : 'a non-negative integer'}`);
      return x;
    });
    const [channel, apa, plane, face, wire] = v as [number, number, number, number, number];
    if (byChannel.has(channel)) throw new UserError(`${where}: field channel value ${channel} is listed twice`);
    byChannel.set(channel, { apa, plane, face, wire });
    byPlace.set(key(apa, plane, face, wire), channel);
  });
  if (byChannel.size === 0) throw new UserError(`--channel-map ${file}: no channels`);
  return {
    name: `${file} (${byChannel.size} channels)`,
    place: (channel) => byChannel.get(channel) ?? null,
    channelOf: (apa, plane, face, wire) => byPlace.get(key(apa, plane, face, wire)) ?? null,
  };
}
