#!/usr/bin/env python3
"""Minimal Pipecat Twilio Media Streams echo bot — a benchmark peer for ProSaaS.

Runs in its own venv (bench/.venv-pipecat, see setup_pipecat.sh), never in
/work/main/.venv.

    bench/.venv-pipecat/bin/python bench/peers/pipecat_echo.py --port 8765          # no VAD
    bench/.venv-pipecat/bin/python bench/peers/pipecat_echo.py --port 8765 --vad    # Silero VAD

One FastAPI/uvicorn process on 127.0.0.1:PORT, WebSocket path /ws/twilio; every
WebSocket gets its own FastAPIWebsocketTransport + TwilioFrameSerializer +
PipelineWorker, run by its own WorkerRunner (as pipecat's own runner does per
telephony call), so many concurrent calls share one process / event loop.

Pipeline:  transport.input() -> [VADProcessor(SileroVADAnalyzer)] -> Echo -> transport.output()

``Echo`` is needed because the output transport only plays OutputAudioRawFrame;
the input transport produces InputAudioRawFrame (a SystemFrame). It re-wraps
the same PCM bytes, nothing else.

Fully offline: no credentials (auto_hang_up=False, so the serializer never
calls Twilio's REST API), no API keys, no services; the Silero ONNX model ships
inside the pipecat-ai wheel.
"""

from __future__ import annotations

import argparse
import os
import sys

# No phone-home. pipecat itself has no telemetry, but onnxruntime (pulled in by
# the [silero] extra, used by --vad) ships Microsoft 1DS telemetry on Linux since
# 1.29: without this it resolves mobile.events.data.microsoft.com and writes
# ~/.cache/Microsoft/... as soon as an InferenceSession is created. Must be set
# before onnxruntime initialises. The rest are belt and braces.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("OTEL_SDK_DISABLED", "true")

import uvicorn  # noqa: E402
from fastapi import FastAPI, WebSocket  # noqa: E402
from loguru import logger  # noqa: E402
from pipecat.frames.frames import Frame, InputAudioRawFrame, OutputAudioRawFrame  # noqa: E402
from pipecat.pipeline.pipeline import Pipeline  # noqa: E402
from pipecat.pipeline.worker import PipelineParams, PipelineWorker  # noqa: E402
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor  # noqa: E402
from pipecat.runner.utils import parse_telephony_websocket  # noqa: E402
from pipecat.serializers.twilio import TwilioFrameSerializer  # noqa: E402
from pipecat.transports.websocket.fastapi import (  # noqa: E402
    FastAPIWebsocketParams,
    FastAPIWebsocketTransport,
)
from pipecat.workers.runner import WorkerRunner  # noqa: E402


class Echo(FrameProcessor):
    """Turn caller audio (InputAudioRawFrame) into bot audio (OutputAudioRawFrame)."""

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            await self.push_frame(
                OutputAudioRawFrame(
                    audio=frame.audio,
                    sample_rate=frame.sample_rate,
                    num_channels=frame.num_channels,
                )
            )
        else:
            await self.push_frame(frame, direction)


def build_app(args: argparse.Namespace) -> FastAPI:
    app = FastAPI()

    silero_cls = None
    if args.vad:
        import onnxruntime

        # Second switch (runtime API); ORT_DISABLE_TELEMETRY above is the one
        # that actually stops the uploader on Linux.
        onnxruntime.disable_telemetry_events()

        from pipecat.audio.vad.silero import SileroVADAnalyzer
        from pipecat.processors.audio.vad_processor import VADProcessor

        silero_cls = SileroVADAnalyzer
        SileroVADAnalyzer()  # load the bundled ONNX model once now (fail fast, warm caches)

    @app.get("/health")
    async def health():
        return {"ok": True, "vad": bool(args.vad)}

    @app.websocket("/ws/twilio")
    async def twilio_ws(websocket: WebSocket):
        await websocket.accept()
        # Reads Twilio's `connected` and `start` messages (pipecat's own helper).
        transport_type, call_data = await parse_telephony_websocket(websocket)
        if transport_type != "twilio":
            logger.warning(f"not a Twilio stream ({transport_type}); closing")
            await websocket.close()
            return
        stream_sid = call_data["stream_id"]
        call_sid = call_data["call_id"]
        logger.info(f"call start streamSid={stream_sid} callSid={call_sid}")

        serializer = TwilioFrameSerializer(
            stream_sid=stream_sid,
            call_sid=call_sid,
            params=TwilioFrameSerializer.InputParams(auto_hang_up=False),
        )
        transport = FastAPIWebsocketTransport(
            websocket=websocket,
            params=FastAPIWebsocketParams(
                audio_in_enabled=True,
                audio_out_enabled=True,
                add_wav_header=False,
                serializer=serializer,
                # 2 x 10 ms = 20 ms out frames, like Twilio's own framing.
                audio_out_10ms_chunks=2,
            ),
        )

        processors = [transport.input()]
        if silero_cls is not None:
            processors.append(VADProcessor(vad_analyzer=silero_cls()))
        processors += [Echo(), transport.output()]

        worker = PipelineWorker(
            Pipeline(processors),
            params=PipelineParams(
                audio_in_sample_rate=args.sample_rate,
                audio_out_sample_rate=args.sample_rate,
            ),
            enable_rtvi=args.rtvi,
            idle_timeout_secs=None,
        )

        @transport.event_handler("on_client_disconnected")
        async def on_client_disconnected(_transport, _ws):
            await worker.cancel()

        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        await runner.run()
        logger.info(f"call end streamSid={stream_sid}")

    return app


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--vad", action="store_true", help="add SileroVADAnalyzer (VADProcessor) to each call")
    p.add_argument(
        "--sample-rate",
        type=int,
        default=8000,
        choices=(8000, 16000),
        help="pipeline PCM rate; 8000 = no resampling (default), 16000 = pipecat's usual default",
    )
    p.add_argument("--rtvi", action="store_true", help="keep pipecat's default RTVI processor/observer")
    p.add_argument(
        "--ws",
        default="auto",
        choices=("auto", "websockets", "websockets-sansio", "wsproto"),
        help="uvicorn WebSocket implementation (auto = what pipecat's own runner gets)",
    )
    p.add_argument("--log-level", default="WARNING", help="loguru level (pipecat logs per-frame-ish at DEBUG)")
    args = p.parse_args()

    logger.remove()
    logger.add(sys.stderr, level=args.log_level.upper())

    uvicorn.run(
        build_app(args),
        host=args.host,
        port=args.port,
        log_level="warning",
        ws=args.ws,
        lifespan="off",
        access_log=False,
    )


if __name__ == "__main__":
    main()
