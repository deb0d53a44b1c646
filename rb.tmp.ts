import { PlainState } from './src/core/plain-state.ts';
import { renderRpzLines } from './src/render/rpz-lines.ts';
import { resolveRenderOptions } from './src/render/options.ts';
import { tailAt } from './src/core/plain-payload.ts';
import { isDnsNameAt } from './src/render/names.ts';
const enc = new TextEncoder();
const N = 1_000_000;
const names: string[] = [];
for (let i = 0; i < N; i++) names.push(`h${i}.scale-${i % 4099}.com/`);
names.sort();
let text = '';
for (const n of names) text += `${n}\tdomain\tphishing\tblock\n`;
const st = PlainState.fromSnapshot(enc.encode(text), 'adopt');
if (!st.ok) throw new Error();
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const options = resolveRenderOptions();
for (let r = 0; r < 3; r++) {
  let t = cpu(); let total = 0;
  for await (const piece of renderRpzLines(st.value, { version: 1, options })) total += piece.length;
  console.log('render ns/line', ((cpu() - t) * 1e6 / N).toFixed(0), total);
  t = cpu(); let k = 0;
  for (const { bytes, starts } of st.value.lineRuns()) for (let i = 0; i + 1 < starts.length; i++) { let tab = starts[i]!; while (bytes[tab] !== 9) tab++; const f = tailAt(bytes, tab, starts[i + 1]! - 1); if (f && isDnsNameAt(bytes, starts[i]!, tab - 1)) k++; }
  console.log('tail+name ns/line', ((cpu() - t) * 1e6 / N).toFixed(0), k);
  t = cpu(); k = 0;
  for (const { bytes, starts } of st.value.lineRuns()) for (let i = 0; i + 1 < starts.length; i++) { let tab = starts[i]!; while (bytes[tab] !== 9) tab++; const f = tailAt(bytes, tab, starts[i + 1]! - 1); if (f) k++; }
  console.log('tail ns/line', ((cpu() - t) * 1e6 / N).toFixed(0), k);
}
