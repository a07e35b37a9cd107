"""The video model's start from the shipped image model (video/from_image.py, onnx_weights.py)."""

import pytest

torch = pytest.importorskip("torch")

from ditserve_train.manifest import read_config  # noqa: E402
from ditserve_train.onnx_weights import evaluator_installed  # noqa: E402
from ditserve_train.models.text_encoder import TextEncoder, TextEncoderConfig  # noqa: E402
from ditserve_train.tokenizer import WordTokenizer  # noqa: E402
from ditserve_train.video import from_image as F  # noqa: E402
from ditserve_train.video.model import VideoMMDiT, VideoMMDiTConfig  # noqa: E402
from ditserve_train.video.tokenizer import video_tokenizer  # noqa: E402

IMAGE = F.image_model_dir("shapes-mmdit-s")


def _video_dit(depth: int, **extra) -> VideoMMDiT:
    img = read_config(IMAGE, "transformer")
    return VideoMMDiT(VideoMMDiTConfig(in_channels=img["in_channels"], out_channels=img["out_channels"],
                                       hidden_size=img["hidden_size"], depth=depth, num_heads=img["num_heads"],
                                       ada_rank=img["ada_rank"], joint_attention_dim=img["joint_attention_dim"],
                                       pooled_projection_dim=img["pooled_projection_dim"], **extra))


# The video model's own text attention and per-frame text embedding (text_attention.py) start at zero.
ADDITIONS = [{}, {"text_attention_dim": 128, "frame_text": True}]


def test_block_sources_keep_the_first_blocks_and_the_last():
    assert F.block_sources(6, 6) == [0, 1, 2, 3, 4, 5]
    assert F.block_sources(5, 6) == [0, 1, 2, 3, 5]
    assert F.block_sources(1, 6) == [5]
    with pytest.raises(ValueError):
        F.block_sources(7, 6)


@pytest.mark.skipif(not evaluator_installed(), reason="needs onnxruntime or onnx.reference to run the graphs")
def test_weights_read_back_compute_what_the_shipped_graphs_compute():
    F.CHECKED.clear()
    F.load_image_vae(IMAGE)
    F._image_text_encoder(IMAGE)
    F._image_transformer(IMAGE)  # each raises if it differs from its graph
    assert F.CHECKED == {"vae_decoder": True, "text_encoder": True, "transformer": True}


def test_video_text_encoder_reads_image_words_as_the_image_model_does():
    tok = video_tokenizer()
    te = TextEncoder(TextEncoderConfig(vocab_size=len(tok.vocab), max_length=tok.max_length, num_layers=4))
    F.init_text_encoder(te, tok.vocab, IMAGE)
    image_tok = WordTokenizer.load(IMAGE / "tokenizer")
    caption = "a small red circle above a blue star on a black background"
    with torch.no_grad():
        ours = te(torch.as_tensor(tok.batch([caption])))
        theirs = F._image_text_encoder(IMAGE)(torch.as_tensor(image_tok.batch([caption])))
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("extra", ADDITIONS)
def test_a_still_clip_starts_denoised_frame_by_frame_as_the_image_model_would(extra):
    # One spacetime patch of two equal frames, at full depth: every frame's velocity is the image
    # model's on that frame (more frames share attention, so only two make it exact).
    dit = _video_dit(read_config(IMAGE, "transformer")["depth"], **extra)
    F.init_transformer(dit, IMAGE)
    img = F._image_transformer(IMAGE)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(2, 16, 16, 16, generator=g)
    t = torch.tensor([700.0, 250.0])
    text = torch.randn(2, 32, img.cfg.joint_attention_dim, generator=g)
    pooled = torch.randn(2, img.cfg.pooled_projection_dim, generator=g)
    clip = x[:, :, None].expand(2, 16, 2, 16, 16).contiguous()
    with torch.no_grad():
        want = img(x, t, text, pooled)
        got = dit(clip, t, text, pooled, torch.zeros_like(clip), torch.zeros(2, 2))
    for f in range(2):
        torch.testing.assert_close(got[:, :, f], want, atol=1e-4, rtol=1e-4)


def test_the_text_pathway_and_the_new_weights_get_their_own_lr_groups():
    pytest.importorskip("scipy")  # video.train imports MotionEval's detector
    from ditserve_train.video.train import new_params, param_groups, text_params

    tok = video_tokenizer()
    te = TextEncoder(TextEncoderConfig(vocab_size=len(tok.vocab), max_length=tok.max_length, num_layers=1))
    dit = _video_dit(2, **ADDITIONS[1])
    params = [*te.parameters(), *dit.parameters()]
    base, text, new = param_groups(params, [(text_params(te, dit), 4.0), (new_params(dit), 2.0)])
    assert "lr_scale" not in base and text["lr_scale"] == 4.0 and new["lr_scale"] == 2.0
    assert {id(p) for p in text["params"]} == {id(p) for p in [*te.parameters(), *dit.context_embed.parameters(),
                                                               *dit.pooled_embed.parameters()]}
    assert {id(p) for p in new["params"]} == {id(p) for p in [*dit.time_pos.parameters(), *dit.text_attn.parameters(),
                                                              *dit.frame_text.parameters()]}
    assert len(base["params"]) + len(text["params"]) + len(new["params"]) == len(params)
    assert all(id(p) not in {id(q) for q in text["params"]} for p in dit.blocks.parameters())
    with pytest.raises(ValueError):
        param_groups(params, [(text_params(te, dit), 4.0), (list(te.parameters()), 2.0)])
