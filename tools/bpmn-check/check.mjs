// Used by crates/cli/tests/regulation.rs; installed by .ci/run with `npm ci --prefix tools/bpmn-check`.
// Parses BPMN files with bpmn-moddle; exits 1 on any error or warning.
import { readFileSync } from 'node:fs';
import BpmnModdle from 'bpmn-moddle';
const moddle = new BpmnModdle();
let failed = false;
for (const file of process.argv.slice(2)) {
  try {
    const { rootElement, warnings } = await moddle.fromXML(readFileSync(file, 'utf8'));
    const process_ = rootElement.rootElements.find((e) => e.$type === 'bpmn:Process');
    console.log(`${file}: ${process_.flowElements.length} flow elements, ${warnings.length} warnings`);
    for (const w of warnings) { console.log(`  warning: ${w.message}`); failed = true; }
  } catch (e) { console.log(`${file}: ${e.message}`); failed = true; }
}
process.exit(failed ? 1 : 0);
