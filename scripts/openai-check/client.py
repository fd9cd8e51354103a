"""OpenAI's Python client against an OpenAI-compatible server, used exactly as its documentation
shows: list the models, embed two texts (the client asks for base64 and decodes it), complete a
chat, and stream one. Prints what came back as JSON; any failure raises (exit status 1)."""

import json
import sys

from openai import OpenAI

base_url, chat_model, embedding_model = sys.argv[1:4]
client = OpenAI(base_url=base_url, api_key="not-needed", max_retries=0, timeout=120)

models = sorted(m.id for m in client.models.list())
embedded = client.embeddings.create(
    model=embedding_model,
    input=["Hòa Phát báo lãi kỷ lục", "Hoa Phat posts record profit"],
)
vectors = [d.embedding for d in embedded.data]
completion = client.chat.completions.create(
    model=chat_model,
    messages=[
        {"role": "system", "content": "Answer in one short sentence."},
        {"role": "user", "content": "What is the capital of France?"},
    ],
    max_tokens=24,
    temperature=0,
)
pieces = []
finish = None
usage = None
stream = client.chat.completions.create(
    model=chat_model,
    messages=[
        {"role": "system", "content": "Answer in one short sentence."},
        {"role": "user", "content": "What is the capital of France?"},
    ],
    max_tokens=24,
    temperature=0,
    stream=True,
    stream_options={"include_usage": True},
)
for chunk in stream:
    if chunk.usage is not None:
        usage = chunk.usage.completion_tokens
    for choice in chunk.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish = choice.finish_reason

print(json.dumps({
    "models": models,
    "dimensions": [len(v) for v in vectors],
    "similarity": sum(a * b for a, b in zip(*vectors)),
    "answer": completion.choices[0].message.content,
    "finish": completion.choices[0].finish_reason,
    "completion_tokens": completion.usage.completion_tokens,
    "streamed": "".join(pieces),
    "stream_chunks": len(pieces),
    "stream_finish": finish,
    "stream_usage": usage,
}, ensure_ascii=False))
