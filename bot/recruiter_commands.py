"""Recruiter commands: /dossiers, /dossier, /export — for RECRUITER_USER_IDS only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.rendering import split_text
from flows.dossier_summary import csv_export, summary
from flows.messages import Msg, render
from flows.ports import FileStore
from flows.vacancy import Vacancy
from storage.dossier_repository import SqlDossierStore

STATUSES = ("draft", "ineligible", "collecting", "submitted", "withdrawn", "expired")
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


class RecruiterCommands:
    def __init__(self, store: SqlDossierStore, files: FileStore, vacancies: dict[str, Vacancy],
                 allowed: frozenset[int]) -> None:
        self.store = store
        self.files = files
        self.vacancies = vacancies
        self.allowed = allowed

    def only_recruiters(self, handler: Handler) -> Handler:
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            user = update.effective_user
            message = update.effective_message
            if message is None:
                return
            if user is None or user.id not in self.allowed:
                # Same answer whatever the arguments: an outsider learns nothing about dossiers.
                await message.reply_text(render(Msg("recruiter.only"), "nl"))
                return
            await handler(update, context)
        return guarded

    async def say(self, update: Update, text: str) -> None:
        message = update.effective_message
        assert message is not None
        for chunk in split_text(text):
            await message.reply_text(chunk)

    async def dossiers(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = list(context.args or [])
        vacancy_id = next((a for a in args if a in self.vacancies), None)
        status = next((a for a in args if a in STATUSES), None)
        if len(args) != (vacancy_id is not None) + (status is not None):
            await self.say(update, render(Msg("rec.list.usage"), "nl"))
            return
        rows = await asyncio.to_thread(self.store.list_dossiers, vacancy_id, status)
        if not rows:
            await self.say(update, render(Msg("rec.list.none"), "nl"))
            return
        lines = [render(Msg("rec.list.title", {"n": len(rows)}), "nl")]
        for d in rows[-100:]:
            vacancy = self.vacancies.get(d.vacancy_id)
            zone = vacancy.zone if vacancy else None
            lines.append(render(Msg("rec.list.row", {
                "id": d.id, "vacancy": d.vacancy_id, "status": d.status,
                "name": d.answers.get("candidate.name", "—"),
                "updated": d.updated_at.astimezone(zone).strftime("%d-%m-%Y %H:%M")}), "nl"))
        await self.say(update, "\n".join(lines))

    async def dossier(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        if len(args) != 1 or not args[0].lstrip("#").isdigit():
            await self.say(update, render(Msg("rec.dossier.usage"), "nl"))
            return
        dossier_id = int(args[0].lstrip("#"))
        found = await asyncio.to_thread(self.store.get_dossier, dossier_id)
        if found is None or found[0].vacancy_id not in self.vacancies:
            await self.say(update, render(Msg("rec.dossier.unknown", {"id": dossier_id}), "nl"))
            return
        dossier, _candidate, documents = found
        await self.say(update, summary(self.vacancies[dossier.vacancy_id], dossier, documents))
        message = update.effective_message
        assert message is not None
        for doc in documents:
            with self.files.path(doc.stored_path).open("rb") as fh:
                await message.reply_document(fh, filename=doc.original_name,
                                             caption=f"#{dossier.id} · {doc.kind}")

    async def export(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        if len(args) != 1 or args[0] not in self.vacancies:
            await self.say(update, render(Msg("rec.export.usage", {
                "ids": ", ".join(sorted(self.vacancies))}), "nl"))
            return
        vacancy = self.vacancies[args[0]]
        data, count = await asyncio.to_thread(self.export_rows, vacancy)
        message = update.effective_message
        assert message is not None
        await message.reply_document(data, filename=f"{vacancy.id}.csv", caption=render(
            Msg("rec.export.caption", {"title": vacancy.title, "n": count}), "nl"))

    def export_rows(self, vacancy: Vacancy) -> tuple[bytes, int]:
        rows = []
        for d in self.store.list_dossiers(vacancy.id, None):
            found = self.store.get_dossier(d.id)
            if found is not None:
                rows.append(found)
        return csv_export(vacancy, rows), len(rows)

    def register(self, app: Application) -> None:
        app.add_handler(CommandHandler("dossiers", self.only_recruiters(self.dossiers)))
        app.add_handler(CommandHandler("dossier", self.only_recruiters(self.dossier)))
        app.add_handler(CommandHandler("export", self.only_recruiters(self.export)))
