/**
 * The package's TensorFlow.js namespace. Importing tfjs-core alone gives no
 * gradients and no kernels: this module registers every gradient and the
 * plain-JavaScript `cpu` backend (always available as the fallback), so any
 * module that computes with `tf` imports it from here.
 */
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core ships its gradients only as extension-less ES modules that Deno
// cannot load; the union package's Node bundle registers all of them.
import "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-cpu";

// Production mode: no per-op debug checks, and no console banner from the
// cpu backend suggesting tfjs-node (the package picks its backend itself).
tf.env().set("PROD", true);

export { tf };
