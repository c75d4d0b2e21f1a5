import { register } from "tsx/esm/api";
register();
for (const m of process.argv.slice(2)) { const t = performance.now(); await import(m); console.log(m.replace("/work/main/",""), (performance.now()-t).toFixed(0), "ms"); }
console.log("cpu", process.cpuUsage().user/1000|0, "ms user");
