/**
 * Reverse-mode autodiff as a graph transform: `appendGradients` walks the recorded forward graph backwards from the
 * loss and appends the vector-Jacobian products as ordinary nodes (same primitive op set) to the same graph.
 */
import { type Graph, type NodeId, type Shape, sameShape } from "./ir.ts";
import { GraphBuilder, type Sym } from "./tensor.ts";

/** Reduce a broadcast gradient g back to `shape` (sum over stretched / leading axes). */
export function sumTo(g: Sym, shape: Shape): Sym {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return g.sum(axes, true).reshape(shape);
}

function invPerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

/**
 * Append d(loss)/d(w) for each w in `wrt` to `graph`. `loss` is usually a scalar; for a non-scalar output the seed
 * is all ones (the gradient of its sum). Returns one node id per `wrt` entry (a zeros node if w does not reach loss).
 */
export function appendGradients(graph: Graph, loss: NodeId, wrt: readonly NodeId[]): NodeId[] {
  const b = new GraphBuilder(graph);
  const nodes = graph.nodes;
  const lossNode = graph.node(loss);
  // Nodes that depend on some wrt node (only they need gradients).
  const needs = new Uint8Array(loss + 1);
  for (const w of wrt) if (w <= loss) needs[w] = 1;
  for (let i = 0; i <= loss; i++) {
    if (!needs[i]) for (const j of nodes[i].inputs) if (needs[j]) needs[i] = 1;
  }
  const grads = new Map<NodeId, Sym>();
  const accumulate = (id: NodeId, g: Sym) => {
    if (!needs[id]) return;
    const prev = grads.get(id);
    grads.set(id, prev ? prev.add(g) : g);
  };
  grads.set(loss, lossNode.shape.length === 0 ? b.scalar(1) : b.scalar(1).expand(lossNode.shape));

  for (let id = loss; id >= 0; id--) {
    const g = grads.get(id);
    if (!g || !needs[id]) continue;
    const node = nodes[id];
    const x = node.inputs.map((i) => b.sym(i));
    const out = b.sym(id);
    const op = node.op;
    switch (op.kind) {
      case "input":
      case "param":
      case "const":
        break;
      case "add":
        accumulate(x[0].id, sumTo(g, x[0].shape));
        accumulate(x[1].id, sumTo(g, x[1].shape));
        break;
      case "sub":
        accumulate(x[0].id, sumTo(g, x[0].shape));
        if (needs[x[1].id]) accumulate(x[1].id, sumTo(g.neg(), x[1].shape));
        break;
      case "mul":
        if (needs[x[0].id]) accumulate(x[0].id, sumTo(g.mul(x[1]), x[0].shape));
        if (needs[x[1].id]) accumulate(x[1].id, sumTo(g.mul(x[0]), x[1].shape));
        break;
      case "div":
        if (needs[x[0].id]) accumulate(x[0].id, sumTo(g.div(x[1]), x[0].shape));
        // d(a/b)/db = -a/b^2 = -out/b
        if (needs[x[1].id]) accumulate(x[1].id, sumTo(g.mul(out).div(x[1]).neg(), x[1].shape));
        break;
      case "neg":
        accumulate(x[0].id, g.neg());
        break;
      case "exp":
        accumulate(x[0].id, g.mul(out));
        break;
      case "log":
        accumulate(x[0].id, g.div(x[0]));
        break;
      case "sqrt":
        accumulate(x[0].id, g.mul(0.5).div(out));
        break;
      case "sigmoid":
        accumulate(x[0].id, g.mul(out.mul(b.scalar(1).sub(out))));
        break;
      case "tanh":
        accumulate(x[0].id, g.mul(b.scalar(1).sub(out.square())));
        break;
      case "matmul": {
        const [a, m] = x;
        if (needs[a.id]) accumulate(a.id, sumTo(g.matmul(m.t()), a.shape));
        if (needs[m.id]) accumulate(m.id, sumTo(a.t().matmul(g), m.shape));
        break;
      }
      case "reshape":
        accumulate(x[0].id, g.reshape(x[0].shape));
        break;
      case "transpose":
        accumulate(x[0].id, g.transpose(invPerm(op.perm)));
        break;
      case "slice": {
        const s = x[0].shape;
        const parts: Sym[] = [];
        if (op.start > 0) {
          const zs = [...s];
          zs[op.axis] = op.start;
          parts.push(b.zeros(zs));
        }
        parts.push(g);
        if (op.end < s[op.axis]) {
          const zs = [...s];
          zs[op.axis] = s[op.axis] - op.end;
          parts.push(b.zeros(zs));
        }
        accumulate(x[0].id, b.concat(parts, op.axis));
        break;
      }
      case "concat": {
        let off = 0;
        for (const xi of x) {
          const len = xi.shape[op.axis];
          if (needs[xi.id]) accumulate(xi.id, g.slice(op.axis, off, off + len));
          off += len;
        }
        break;
      }
      case "expand":
        accumulate(x[0].id, sumTo(g, x[0].shape));
        break;
      case "reduceSum": {
        const s = x[0].shape;
        const kept = s.map((d, i) => (op.axes.includes(i) ? 1 : d));
        accumulate(x[0].id, g.reshape(kept).expand(s));
        break;
      }
      case "softmax": {
        // dx = y * (g - sum(g * y))
        const dot = g.mul(out).sum([-1], true);
        accumulate(x[0].id, out.mul(g.sub(dot)));
        break;
      }
      case "logSoftmax": {
        // dx = g - softmax(x) * sum(g)
        accumulate(x[0].id, g.sub(out.exp().mul(g.sum([-1], true))));
        break;
      }
      case "gather": {
        const [table, idx] = x;
        accumulate(table.id, b.op({ kind: "scatterAdd" }, [g, idx], table.shape));
        break;
      }
      case "scatterAdd": {
        const [upd, idx] = x;
        accumulate(upd.id, g.gather(idx));
        break;
      }
      default: {
        const never: never = op;
        throw new Error(`autodiff: no rule for ${JSON.stringify(never)}`);
      }
    }
  }
  return wrt.map((w) => {
    const g = grads.get(w);
    if (g) return g.id;
    return b.zeros(graph.node(w).shape).id;
  });
}
