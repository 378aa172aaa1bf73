// Conversions between the typed Region errors (src/region/errors.ts) and nyx.errors.RegionError.
import type {
  RegionError as RegionErrorMsg,
  RegionError__Output,
} from '../proto-gen/nyx/errors/RegionError.js';
import { RegionError, RegionErrorDetail } from '../region/errors.js';
import { peerFromProto, peerToProto, regionFromProto, regionToProto } from './convert_meta.js';
import { toUint64, uint64ToNumber } from './uint64.js';

export function regionErrorToProto(e: RegionError): RegionErrorMsg {
  const d = e.detail;
  const message = e.message;
  switch (d.kind) {
    case 'NotLeader':
      return {
        message,
        notLeader: {
          regionId: toUint64(d.regionId),
          leader: d.leader ? peerToProto(d.leader) : null,
        },
      };
    case 'EpochNotMatch':
      return { message, epochNotMatch: { currentRegions: d.currentRegions.map(regionToProto) } };
    case 'RegionNotFound':
      return { message, regionNotFound: { regionId: toUint64(d.regionId) } };
    case 'KeyNotInRegion':
      return {
        message,
        keyNotInRegion: {
          key: d.key,
          regionId: toUint64(d.regionId),
          startKey: d.startKey,
          endKey: d.endKey,
        },
      };
    case 'ServerIsBusy':
      return { message, serverIsBusy: { reason: d.reason, backoffMs: toUint64(d.backoffMs) } };
    case 'StoreNotMatch':
      return {
        message,
        storeNotMatch: {
          requestStoreId: toUint64(d.requestStoreId),
          actualStoreId: toUint64(d.actualStoreId),
        },
      };
    case 'RaftEntryTooLarge':
      return {
        message,
        raftEntryTooLarge: { regionId: toUint64(d.regionId), entrySize: toUint64(d.entrySize) },
      };
    case 'StaleCommand':
      return { message, staleCommand: { regionId: toUint64(d.regionId) } };
    case 'SessionRecordGone':
      return {
        message,
        sessionRecordGone: {
          regionId: toUint64(d.regionId),
          seq: toUint64(d.seq),
          floor: toUint64(d.floor),
        },
      };
    case 'DiskFull':
      return {
        message,
        diskFull: {
          storeId: toUint64(d.storeId),
          availableBytes: toUint64(d.availableBytes),
          reserveBytes: toUint64(d.reserveBytes),
        },
      };
  }
}

/** The typed error, or undefined when the message carries none. */
export function regionErrorFromProto(
  m: RegionError__Output | null | undefined,
): RegionError | undefined {
  if (!m || !m.kind) return undefined;
  let d: RegionErrorDetail;
  switch (m.kind) {
    case 'notLeader': {
      const n = m.notLeader!;
      d = {
        kind: 'NotLeader',
        regionId: uint64ToNumber(n.regionId),
        ...(n.leader ? { leader: peerFromProto(n.leader) } : {}),
      };
      break;
    }
    case 'epochNotMatch':
      d = {
        kind: 'EpochNotMatch',
        currentRegions: m.epochNotMatch!.currentRegions.map(regionFromProto),
      };
      break;
    case 'regionNotFound':
      d = { kind: 'RegionNotFound', regionId: uint64ToNumber(m.regionNotFound!.regionId) };
      break;
    case 'keyNotInRegion': {
      const k = m.keyNotInRegion!;
      d = {
        kind: 'KeyNotInRegion',
        key: Buffer.from(k.key),
        regionId: uint64ToNumber(k.regionId),
        startKey: Buffer.from(k.startKey),
        endKey: Buffer.from(k.endKey),
      };
      break;
    }
    case 'serverIsBusy':
      d = {
        kind: 'ServerIsBusy',
        reason: m.serverIsBusy!.reason,
        backoffMs: uint64ToNumber(m.serverIsBusy!.backoffMs),
      };
      break;
    case 'storeNotMatch':
      d = {
        kind: 'StoreNotMatch',
        requestStoreId: uint64ToNumber(m.storeNotMatch!.requestStoreId),
        actualStoreId: uint64ToNumber(m.storeNotMatch!.actualStoreId),
      };
      break;
    case 'raftEntryTooLarge':
      d = {
        kind: 'RaftEntryTooLarge',
        regionId: uint64ToNumber(m.raftEntryTooLarge!.regionId),
        entrySize: uint64ToNumber(m.raftEntryTooLarge!.entrySize),
      };
      break;
    case 'staleCommand':
      d = { kind: 'StaleCommand', regionId: uint64ToNumber(m.staleCommand!.regionId) };
      break;
    case 'sessionRecordGone': {
      const g = m.sessionRecordGone!;
      d = {
        kind: 'SessionRecordGone',
        regionId: uint64ToNumber(g.regionId),
        seq: uint64ToNumber(g.seq),
        floor: uint64ToNumber(g.floor),
      };
      break;
    }
    case 'diskFull': {
      const f = m.diskFull!;
      d = {
        kind: 'DiskFull',
        storeId: uint64ToNumber(f.storeId),
        availableBytes: uint64ToNumber(f.availableBytes),
        reserveBytes: uint64ToNumber(f.reserveBytes),
      };
      break;
    }
    default:
      return undefined;
  }
  return new RegionError(d, m.message || undefined);
}
