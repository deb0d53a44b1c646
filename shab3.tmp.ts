import { sha256Words } from './src/core/sha256.ts';
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const W = new Int32Array(64);
const H = new Int32Array(8);
const BLOCK = new Uint8Array(128);
function compressW(): void {
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!; const y = W[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = H[0]!, b = H[1]!, c = H[2]!, d = H[3]!, e = H[4]!, f = H[5]!, g = H[6]!, h = H[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  H[0] = (H[0]! + a) | 0; H[1] = (H[1]! + b) | 0; H[2] = (H[2]! + c) | 0; H[3] = (H[3]! + d) | 0;
  H[4] = (H[4]! + e) | 0; H[5] = (H[5]! + f) | 0; H[6] = (H[6]! + g) | 0; H[7] = (H[7]! + h) | 0;
}
function load(bytes: Uint8Array, o: number) {
  for (let i = 0; i < 16; i++, o += 4) W[i] = (bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!;
}
function words2(bytes: Uint8Array, start: number, end: number, out: Uint32Array) {
  H.set(IV);
  let o = start;
  for (; o + 64 <= end; o += 64) { load(bytes, o); compressW(); }
  const rest = end - o;
  let j = 0;
  for (; j < rest; j++) BLOCK[j] = bytes[o + j]!;
  BLOCK[j++] = 0x80;
  const blocks = j + 8 > 64 ? 128 : 64;
  for (; j < blocks - 4; j++) BLOCK[j] = 0;
  const bits = (end - start) * 8;
  BLOCK[blocks - 4] = bits >>> 24; BLOCK[blocks - 3] = bits >>> 16; BLOCK[blocks - 2] = bits >>> 8; BLOCK[blocks - 1] = bits;
  load(BLOCK, 0); compressW();
  if (blocks === 128) { load(BLOCK, 64); compressW(); }
  for (let i = 0; i < 8; i++) out[i] = H[i]! >>> 0;
}
const enc = new TextEncoder();
const N = 1_000_000;
let text = '';
for (let i = 0; i < N; i++) text += `h${i}.scale-${i % 4099}.com/\tdomain\tphishing\tblock\n`;
const buf = enc.encode(text);
const starts = new Uint32Array(N + 1); let l = 0;
for (let i = 0; i < buf.length; i++) if (buf[i] === 10) starts[++l] = i + 1;
const o1 = new Uint32Array(8), o2 = new Uint32Array(8);
for (let i = 0; i < 1000; i++) { sha256Words(buf, starts[i]!, starts[i+1]!, o1); words2(buf, starts[i]!, starts[i+1]!, o2); if (o1.join() !== o2.join()) throw new Error('mismatch ' + i); }
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
for (let r = 0; r < 3; r++) {
  let t = cpu();
  for (let i = 0; i < N; i++) sha256Words(buf, starts[i]!, starts[i + 1]!, o1);
  console.log('current ns/line cpu', ((cpu() - t) * 1e6 / N).toFixed(0));
  t = cpu();
  for (let i = 0; i < N; i++) words2(buf, starts[i]!, starts[i + 1]!, o2);
  console.log('int32 K ns/line cpu', ((cpu() - t) * 1e6 / N).toFixed(0));
}
