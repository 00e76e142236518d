"""{{name}}: the latest value per key of topic '{{topic}}', as the grid 'latest'."""
from typing import Optional

import aerogrid

app = aerogrid.App('{{name}}', broker=BROKER_URI)

# The fields of each JSON value to show, in column order. Change this list and the grid's
# columns in aerogrid.yaml together (`aerogrid validate` checks that they agree).
COLUMNS = ['price', 'currency']

# Optional[dict]: a null value (a tombstone) arrives as None instead of being rejected.
source = app.topic('{{topic}}', key_type=str, value_type=Optional[dict])

latest = app.Grid('latest', columns=COLUMNS)


@app.stream(source)
async def mirror(stream):
    async for key, value in stream.items():
        if value is None:
            latest.pop(key, None)          # a tombstone deletes the row
        else:
            latest[key] = {column: value.get(column) for column in COLUMNS}
