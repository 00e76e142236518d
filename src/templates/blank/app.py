"""{{name}}: reads topic '{{topic}}' and keeps the grid 'records'.

Write your logic in handle() below. When you add topics or grids, list them in aerogrid.yaml too:
`aerogrid validate` tells you what is missing.
"""
import aerogrid

app = aerogrid.App('{{name}}', broker=BROKER_URI)

# value_type=dict takes any JSON object. For typed fields, declare a Record:
#   class Event(aerogrid.Record):
#       kind: str
#       amount: float
# and pass value_type=Event: records that do not fit go to the dead letters, with the reason.
source = app.topic('{{topic}}', key_type=str, value_type=dict)

records = app.Grid('records', columns=['count'], default=lambda: {'count': 0})


@app.stream(source)
async def handle(stream):
    async for key, value in stream.items():
        # Your logic here. To start with: count the records seen per key.
        records[key] = {'count': records[key]['count'] + 1}
