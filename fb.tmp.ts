import { indexSnapshot } from './src/core/plain-payload.ts';
import { setHashOfLines } from './src/core/plain-state.ts';
const enc = new TextEncoder();
const N = 1_000_000;
const names: string[] = [];
for (let i = 0; i < N; i++) names.push(`h${i}.scale-${i % 4099}.com/`);
names.sort();
let text = '';
for (const n of names) text += `${n}\tdomain\tphishing\tblock\n`;
const payload = enc.encode(text);
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
for (let r = 0; r < 3; r++) {
  let t = cpu();
  const s = indexSnapshot(payload); if (!s.ok) throw 1;
  console.log('index ns/line', ((cpu() - t) * 1e6 / N).toFixed(0));
  t = cpu();
  setHashOfLines(payload, s.value);
  console.log('sethash ns/line', ((cpu() - t) * 1e6 / N).toFixed(0));
}
