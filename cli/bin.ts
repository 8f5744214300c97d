import { main } from "./main.js";

// Exit explicitly: a loaded model's native handles must not keep a finished command alive.
process.exit(await main(process.argv.slice(2)));
