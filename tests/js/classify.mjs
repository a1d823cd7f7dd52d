import { readFile } from "node:fs/promises";
import { Client } from "@gradio/client";

const url = process.argv[2] ?? "http://127.0.0.1:7860/";
const client = await Client.connect(url);
const photo = new Blob([await readFile(process.argv[3] ?? "assets/cat_chelsea.png")]);
const result = await client.predict("/classify", { image: photo, backbone: "mobilenet", cam_class: null });
const [labels, heatmap, explained] = result.data;
console.log(labels.label, "|", explained);
process.exit(0);
