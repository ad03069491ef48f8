"""A tiny, randomly initialised Whisper model in faster-whisper's format, built offline.

The vocabulary is laid out like Whisper's multilingual one (CTranslate2 treats a model
as multilingual only from 51,865 tokens on): 50,257 text tokens (the 256 byte-level
symbols, then fillers), <|endoftext|>, <|startoftranscript|>, 99 language tokens in
Whisper's order, the task and control tokens, and the timestamps <|0.00|> to <|30.00|>.
The weights are random, so the text it writes is noise; its timings, languages and
loading behave like a real model's.
"""

from __future__ import annotations

import json
from pathlib import Path

TEXT_TOKENS = 50_257
# Whisper's language tokens, in the order of its vocabulary (large-v2 and earlier).
_LANGUAGE_CODES = (
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta "
    "no th ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk "
    "sq sw gl mr pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb "
    "my bo tl mg as tt haw ln ha ba jw su"
)
LANGUAGES = tuple(_LANGUAGE_CODES.split())
CONTROL_TOKENS = (
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
)
TIMESTAMPS = tuple(f"<|{i * 0.02:.2f}|>" for i in range(1501))
SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|startoftranscript|>",
    *(f"<|{code}|>" for code in LANGUAGES),
    *CONTROL_TOKENS,
    *TIMESTAMPS,
)
VOCAB_SIZE = TEXT_TOKENS + len(SPECIAL_TOKENS)
assert VOCAB_SIZE == 51_865

FEATURE_EXTRACTOR = {
    "feature_extractor_type": "WhisperFeatureExtractor",
    "feature_size": 80,
    "sampling_rate": 16_000,
    "hop_length": 160,
    "chunk_length": 30,
    "n_fft": 400,
    "n_samples": 480_000,
    "nb_max_frames": 3000,
    "padding_side": "right",
    "padding_value": 0.0,
    "return_attention_mask": False,
}


def _byte_symbols() -> list[str]:
    """GPT-2's printable stand-ins for the 256 byte values, in byte order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    symbols = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + extra)
            extra += 1
    return [symbols[b] for b in range(256)]


def _write_tokenizer(directory: Path) -> None:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    vocab = {symbol: index for index, symbol in enumerate(_byte_symbols())}
    # Fillers decode to words such as " w1234", so the noise reads as separate words.
    for index in range(len(vocab), TEXT_TOKENS - 1):
        vocab[f"\u0120w{index}"] = index
    # Whisper's multilingual vocabulary holds an empty token, and CTranslate2 tells a
    # multilingual model from an English-only one by it.
    vocab[""] = TEXT_TOKENS - 1
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(token, normalized=False) for token in SPECIAL_TOKENS])
    assert tokenizer.token_to_id("<|endoftext|>") == TEXT_TOKENS
    assert tokenizer.get_vocab_size() == VOCAB_SIZE
    tokenizer.save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "bos_token": "<|endoftext|>",
                "eos_token": "<|endoftext|>",
                "unk_token": "<|endoftext|>",
                "model_max_length": 448,
            }
        ),
        encoding="utf-8",
    )


def token_id(token: str) -> int:
    return TEXT_TOKENS + SPECIAL_TOKENS.index(token)


# What the model says after each token: a one-second segment of two noise words, then the
# end of the text; and "Russian" when asked for the language. Random weights alone would
# make every token improbable, and faster-whisper would then retry each 30 s window at
# every temperature up to its 448-token limit, which takes seconds even for a tiny model.
NOISE_WORDS = (1000, 2000)
TRANSITIONS = {
    token_id("<|startoftranscript|>"): token_id("<|ru|>"),
    token_id("<|transcribe|>"): token_id("<|0.00|>"),
    token_id("<|0.00|>"): NOISE_WORDS[0],
    NOISE_WORDS[0]: NOISE_WORDS[1],
    NOISE_WORDS[1]: token_id("<|1.00|>"),
    token_id("<|1.00|>"): token_id("<|endoftext|>"),
}


def _write_transformers_model(directory: Path, seed: int) -> None:
    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    sot = token_id("<|startoftranscript|>")
    config = WhisperConfig(
        vocab_size=VOCAB_SIZE,
        num_mel_bins=80,
        d_model=64,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        max_source_positions=1500,
        max_target_positions=448,
        pad_token_id=TEXT_TOKENS,
        bos_token_id=TEXT_TOKENS,
        eos_token_id=TEXT_TOKENS,
        decoder_start_token_id=sot,
        suppress_tokens=[],
        begin_suppress_tokens=[220, TEXT_TOKENS],
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config)
    with torch.no_grad():
        embeddings = model.model.decoder.embed_tokens.weight
        # Token embeddings dominate the decoder's state, so the last input token decides
        # the next one through the output projection below.
        embeddings.mul_(50.0)
        projection = torch.randn(VOCAB_SIZE, config.d_model) * 0.02
        for source, target in TRANSITIONS.items():
            direction = torch.nn.functional.layer_norm(embeddings[source], (config.d_model,))
            projection[target] = 4.0 * direction / direction.norm()
        model.proj_out.weight = torch.nn.Parameter(projection)
    generation = model.generation_config
    # Otherwise loading rebuilds the generation config from the model config, and the
    # language table below is lost.
    generation._from_model_config = False
    generation.suppress_tokens = []
    generation.begin_suppress_tokens = [220, TEXT_TOKENS]
    # Whisper's own entries, which the generic GenerationConfig does not declare.
    whisper_entries = {
        "lang_to_id": {f"<|{code}|>": token_id(f"<|{code}|>") for code in LANGUAGES},
        "alignment_heads": [[0, 0], [0, 1]],
        "no_timestamps_token_id": token_id("<|notimestamps|>"),
    }
    for key, value in whisper_entries.items():
        setattr(generation, key, value)
    model.save_pretrained(directory)


def build_tiny_whisper(target: Path, *, seed: int = 0, quantization: str = "int8") -> Path:
    """Write a faster-whisper model directory at `target` and return it."""
    from ctranslate2.converters import TransformersConverter

    source = target.with_name(f"{target.name}.transformers")
    source.mkdir(parents=True, exist_ok=True)
    _write_tokenizer(source)
    (source / "preprocessor_config.json").write_text(
        json.dumps(FEATURE_EXTRACTOR), encoding="utf-8"
    )
    _write_transformers_model(source, seed)
    TransformersConverter(
        str(source), copy_files=["tokenizer.json", "preprocessor_config.json"]
    ).convert(str(target), quantization=quantization, force=True)
    return target


if __name__ == "__main__":
    import sys
    import time

    started = time.perf_counter()
    built = build_tiny_whisper(Path(sys.argv[1] if len(sys.argv) > 1 else "var/tiny-whisper"))
    print(f"built {built} in {time.perf_counter() - started:.1f} s")
