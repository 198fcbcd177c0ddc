"""Feeds for bench.stream_clients, each in a child process: the live embedded exchange, or recorded frames replayed."""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp

ACK_DELAY_S = 0.02


def run_sim_feed(queue: mp.Queue, names: list[str], step_ms: float, replay_steps: int) -> None:
    """A SimExchange streaming tickers; the per-peer queue limit is lifted so slow clients lag, not get dropped."""
    import tui_bot.sim.connection as connection
    from tui_bot.sim.server import SimExchange

    connection.MAX_QUEUE = 10**9

    async def main() -> None:
        sim = SimExchange(symbols=names, step_seconds=step_ms / 1000, idle_timeout=3600)
        urls = await sim.start()
        queue.put(urls.public_ws)
        await asyncio.Event().wait()

    asyncio.run(main())


def ws_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One unmasked server-to-client WebSocket frame."""
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, size])
    elif size < 65536:
        head = bytes([0x80 | opcode, 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 127]) + size.to_bytes(8, "big")
    return head + payload


def frame_blocks(frames: list[str], block_bytes: int = 65536) -> list[bytes]:
    """Frames pre-encoded as WebSocket frames and joined into blocks of about block_bytes."""
    blocks, current, size = [], [], 0
    for frame in frames:
        encoded = ws_frame(frame.encode())
        current.append(encoded)
        size += len(encoded)
        if size >= block_bytes:
            blocks.append(b"".join(current))
            current, size = [], 0
    if current:
        blocks.append(b"".join(current))
    return blocks


async def read_client_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """(opcode, unmasked payload) of one client frame."""
    b0, b1 = await reader.readexactly(2)
    size = b1 & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    mask = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
    data = await reader.readexactly(size)
    return b0 & 0x0F, bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))


def run_replay_feed(queue: mp.Queue, names: list[str], step_ms: float, replay_steps: int) -> None:
    """Frames recorded from a SimExchange, replayed unpaced after a client subscribes.

    The frames are WebSocket-encoded once and written in 64 KiB blocks with backpressure, so the server
    costs little per message and the client is the bottleneck; subscribe and ping get Bybit's replies.
    Subscribe acks wait ACK_DELAY_S: pybit records a subscription only after sending it, so an instant
    loopback ack can beat it (KeyError in pybit's socket thread, which then stops reading).
    """
    from websockets.utils import accept_key

    from bench.client_ingest import record_frames
    from tui_bot.sim import wire

    async def main() -> None:
        frames = await record_frames(names, replay_steps)
        snapshots = b"".join(ws_frame(f.encode()) for f in frames[: len(names)])
        deltas = frame_blocks(frames[len(names) :])

        async def stream(writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(2 * ACK_DELAY_S)
            writer.write(snapshots)
            while True:
                for block in deltas:
                    writer.write(block)
                    await writer.drain()

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            streaming: asyncio.Task[None] | None = None
            try:
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                key = next(
                    line.split(":", 1)[1].strip()
                    for line in head.split("\r\n")
                    if line.lower().startswith("sec-websocket-key:")
                )
                accept = accept_key(key).encode()
                writer.write(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
                )
                while True:
                    opcode, payload = await read_client_frame(reader)
                    if opcode == 0x8:
                        writer.write(ws_frame(payload[:2], 0x8))
                        break
                    if opcode == 0x9:
                        writer.write(ws_frame(payload, 0xA))
                    if opcode != 0x1:
                        continue
                    body = json.loads(payload)
                    op, req_id = body.get("op", ""), body.get("req_id", "")
                    reply = wire.public_ws_response(
                        op, success=True, ret_msg="pong" if op == "ping" else "", conn_id="replay", req_id=req_id
                    )
                    encoded = ws_frame(json.dumps(reply).encode())
                    if op == "subscribe":
                        asyncio.get_running_loop().call_later(ACK_DELAY_S, writer.write, encoded)
                    else:
                        writer.write(encoded)
                    if op == "subscribe" and streaming is None:
                        streaming = asyncio.create_task(stream(writer))
            except (ConnectionError, asyncio.IncompleteReadError, StopIteration):
                pass
            finally:
                if streaming is not None:
                    streaming.cancel()
                writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        queue.put(f"ws://127.0.0.1:{port}/v5/public/linear")
        await asyncio.Event().wait()

    asyncio.run(main())
