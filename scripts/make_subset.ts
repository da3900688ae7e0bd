/**
 * Rebuilds the shipped Fashion-MNIST subset `data/fashion-mnist-subset/` from
 * the official IDX files (by default those of Debian's `dataset-fashion-mnist`
 * package) and prints the SHA-256 of each file, which must match
 * `SUBSET_SHA256` in `src/data/fashion_mnist_subset.ts`.
 *
 *     apt-get install dataset-fashion-mnist
 *     deno run --allow-read --allow-write --allow-run scripts/make_subset.ts
 */
import { runTask } from "../src/cli.ts";
import { buildFashionMnistSubset } from "../src/data/build_subset.ts";

/** Asks dpkg which version of the Debian package provided the files, for the manifest. */
async function debianPackageVersion(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("dpkg-query", {
      args: ["-W", "-f=${Package} ${Version}", "dataset-fashion-mnist"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? `Debian ${new TextDecoder().decode(out.stdout)}` : undefined;
  } catch {
    return undefined;
  }
}

await runTask(
  "deno run --allow-read --allow-write --allow-run scripts/make_subset.ts [--source DIR] [--out DIR]",
  [
    {
      name: "source",
      type: "string",
      default: "/usr/share/datasets/fashion-mnist",
      help: "folder of the official IDX files",
    },
    { name: "out", type: "string", default: "data/fashion-mnist-subset", help: "folder to write the subset into" },
  ],
  async (values) => {
    const source = values["source"];
    const pkg = source === "/usr/share/datasets/fashion-mnist" ? await debianPackageVersion() : undefined;
    const sums = await buildFashionMnistSubset(source, values["out"], { sourcePackage: pkg });
    for (const [file, sha] of Object.entries(sums)) console.log(`${sha}  ${file}`);
  },
);
