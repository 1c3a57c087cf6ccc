// Package train runs the release's training loop (scripts/train.py of
// github.com/google/sg2im) natively: the generator and both discriminators
// stepped by Trainer on batches from a data.Loader, with
// checkpoints, exact resumption, progress reporting, sample sheets, loss
// plots and validation.
//
// # Determinism
//
// Everything random is a pure function of the seed and the iteration: the
// initial weights (the InitRandom methods of model.Generator and the discriminators, with
// seeds derived from Config.Seed), the batches (data.Loader, which is
// deterministic for a seed and resumes at any batch with
// data.NewLoaderAt), the scene graphs' relationships (drawn by the dataset
// with the loader's per-example rng) and the layout noise (NoiseSeed). A
// run resumed from a checkpoint therefore computes the same losses as one
// that never stopped.
//
// # Files
//
// In the output directory, for a checkpoint name NAME (the release's
// --checkpoint_name, "checkpoint" by default):
//
//   - NAME.safetensors: the generator and both discriminators with their
//     kwargs (vocabulary included) and the run's arguments, an sg2im
//     checkpoint that sg2im generate and the browser app load directly.
//   - NAME.state.safetensors: everything a resumed run needs, in one file:
//     the three networks' weights and running statistics, the three Adam
//     optimisers' moments and step counts, the counters (t, epoch, batches
//     drawn, skipped steps), the seed and the loss history.
//   - losses.jsonl: one JSON object per logged iteration (every
//     print_every): t, epoch, every generator and discriminator loss, the
//     wall time and the training time so far; skipped steps as
//     {"t": ..., "skipped": true}.
//   - val.jsonl: one JSON object per checkpoint with a validation split:
//     the mean box IoU and the generator's losses on held-out batches.
//   - samples/T.png: at each checkpoint T, a sample sheet: one row per
//     image, real | generated with the real layout | generated with the
//     predicted layout, boxes drawn.
//   - losses.png: the loss curves so far.
//
// Both checkpoint files are written atomically (a temporary file renamed
// over the old one), the state first.
package train
