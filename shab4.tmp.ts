import { sha256Words as oldW } from './old-sha.tmp.ts';
import { sha256Words as newW } from './src/core/sha256.ts';
const enc = new TextEncoder();
const N = 1_000_000;
let text = '';
for (let i = 0; i < N; i++) text += `h${i}.scale-${i % 4099}.com/\tdomain\tphishing\tblock\n`;
const buf = enc.encode(text);
const starts = new Uint32Array(N + 1); let l = 0;
for (let i = 0; i < buf.length; i++) if (buf[i] === 10) starts[++l] = i + 1;
const o1 = new Uint32Array(8);
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
for (let r = 0; r < 3; r++) {
  let t = cpu();
  for (let i = 0; i < N; i++) oldW(buf, starts[i]!, starts[i + 1]!, o1);
  console.log('old ns/line cpu', ((cpu() - t) * 1e6 / N).toFixed(0));
  t = cpu();
  for (let i = 0; i < N; i++) newW(buf, starts[i]!, starts[i + 1]!, o1);
  console.log('new ns/line cpu', ((cpu() - t) * 1e6 / N).toFixed(0));
}
