"""The recruiters' dashboard: a Starlette app on the bot's own web server, opened as a Telegram Mini App."""
