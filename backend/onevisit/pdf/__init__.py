"""The inspection record as PDF (检查记录表): sheet.py gathers, render.py draws, font.py finds
the CJK font, service.py and api.py serve GET /api/visits/{visit_id}/record.pdf."""
