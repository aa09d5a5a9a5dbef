"""The dashboard's words in Chinese (the default) and English."""

from __future__ import annotations

__all__ = ["LANGUAGES", "texts"]

LANGUAGES = ("zh", "en")

_TEXTS: dict[str, tuple[str, str]] = {
    "title": ("燃气客服热线 · 监控台", "Gas hotline · console"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "token": ("令牌", "Token"),
    "bad_token": ("令牌无效或无权查看监控台", "Unknown token, or not allowed to see the console"),
    "live": ("实时", "Live"),
    "reports": ("报表", "Reports"),
    "campaigns": ("外呼任务", "Campaigns"),
    "calls": ("进行中的通话", "Calls in progress"),
    "queues": ("排队", "Queues"),
    "agents": ("坐席", "Agents"),
    "caller": ("主叫", "Caller"),
    "called": ("被叫", "Called"),
    "direction": ("方向", "Direction"),
    "queue": ("队列", "Queue"),
    "agent": ("坐席", "Agent"),
    "state": ("状态", "State"),
    "waiting": ("等待人数", "Waiting"),
    "longest": ("最长等待(秒)", "Longest wait (s)"),
    "holds": ("保持次数", "Holds"),
    "paused": ("小休", "Paused"),
    "name": ("名称", "Name"),
    "type": ("类型", "Type"),
    "status": ("状态", "Status"),
    "progress": ("进度", "Progress"),
    "pause": ("暂停", "Pause"),
    "resume": ("恢复", "Resume"),
    "service_level": ("服务水平", "Service level"),
    "scores": ("满意度评分分布", "Score distribution"),
    "answer_speed": ("应答速度分布", "Answer speed"),
    "offered": ("进线", "Offered"),
    "answered": ("接通", "Answered"),
    "in_time": ("及时接通", "Answered in time"),
    "since": ("自", "From"),
    "until": ("至", "To"),
    "show": ("查询", "Show"),
    "csv": ("导出 CSV", "CSV"),
    "none": ("暂无", "None"),
    "connected": ("实时数据已连接", "Live data connected"),
    "disconnected": ("实时数据已断开,正在重连…", "Live data lost, reconnecting…"),
}


def texts(language: str) -> dict[str, str]:
    index = 1 if language == "en" else 0
    return {key: pair[index] for key, pair in _TEXTS.items()}
