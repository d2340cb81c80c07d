// memlab_dominators.js — loads a .heapsnapshot with memlab's own API (@memlab/heap-analysis's
// getFullHeapFromFile, which computes dominators and retained sizes as memlab's reports use
// them) and prints, for test_devtools.py to compare with heapsnap's database:
//   node ID DOMINATOR_ID RETAINED_SIZE SELF_SIZE NAME        one line per node
//   edge FROM_ID TYPE NAME_OR_INDEX TO_ID                    one line per edge
// usage: NODE_PATH=.../node_modules node memlab_dominators.js FILE.heapsnapshot
'use strict';
const {getFullHeapFromFile} = require('@memlab/heap-analysis');

(async function () {
  const heap = await getFullHeapFromFile(process.argv[2]);
  const lines = [];
  heap.nodes.forEach(node => {
    const dom = node.dominatorNode;
    lines.push(JSON.stringify(['node', node.id, dom ? dom.id : -1, node.retainedSize,
                               node.self_size, node.name]));
    for (const edge of node.references) {
      lines.push(JSON.stringify(['edge', node.id, edge.type, edge.name_or_index,
                                 edge.toNode.id]));
    }
  });
  process.stdout.write(lines.join('\n') + '\n');
})().catch(err => {
  console.error(err);
  process.exit(1);
});
