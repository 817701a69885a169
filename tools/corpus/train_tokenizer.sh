#!/usr/bin/env bash
# Trains the SentencePiece tokenizer of the default model on the corpus's
# training split with Debian's spm_train (package `sentencepiece`).
#   unigram, 12000 pieces, byte fallback (no <unk> on any input), digits split
#   one per piece (numbers are copied digit by digit: passkeys, line numbers),
#   identity normalisation and no whitespace collapsing (code indentation and
#   newlines survive a round trip), no dummy prefix (a document encodes as the
#   concatenation of its lines joined by the newline byte piece, which is how
#   tools/train/prepare_data.py tokenises line-oriented spm_encode output).
#   Ids: unk 0, bos 1, eos 2 (the engine's defaults), no pad.
# Usage: train_tokenizer.sh SHARD_DIR     -> SHARD_DIR/tokenizer.model
set -euo pipefail
shard_dir=${1:?usage: train_tokenizer.sh SHARD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
work="$shard_dir/.work"
mkdir -p "$work"
/usr/bin/python3 "$here/tokenizer_input.py" "$shard_dir" > "$work/spm_input.txt"
spm_train --input="$work/spm_input.txt" --model_prefix="$work/tokenizer" \
  --model_type=unigram --vocab_size=12000 --byte_fallback=true --split_digits=true \
  --normalization_rule_name=identity --remove_extra_whitespaces=false \
  --allow_whitespace_only_pieces=true --add_dummy_prefix=false \
  --character_coverage=0.9995 --max_sentence_length=8192 \
  --input_sentence_size=1500000 --shuffle_input_sentence=true --num_threads=2 \
  --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --random_seed=1 \
  --minloglevel=1 > "$work/spm_train.log" 2>&1 || { tail -20 "$work/spm_train.log" >&2; exit 1; }
cp "$work/tokenizer.model" "$shard_dir/tokenizer.model"
cp "$work/tokenizer.vocab" "$shard_dir/tokenizer.vocab"
echo "train_tokenizer: wrote $shard_dir/tokenizer.model"
