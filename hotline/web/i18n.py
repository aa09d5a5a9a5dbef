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
    "today": ("今日服务", "Today"),
    "abandoned": ("放弃", "Abandoned"),
    "avg_score": ("平均评分", "Average score"),
    "unavailable_now": ("数据库暂不可用", "Database unavailable"),
    "in_ivr": ("语音导航", "In IVR"),
    "in_queue": ("排队中", "Waiting"),
    "talking": ("通话中", "Talking"),
    "on_hold": ("保持中", "On hold"),
    "ringing": ("振铃", "Ringing"),
    "dialing": ("外呼中", "Dialling"),
    "inbound": ("呼入", "Inbound"),
    "outbound": ("呼出", "Outbound"),
    "duration": ("时长", "Duration"),
    "in_flight": ("进行中", "In flight"),
    "st_available": ("空闲", "Available"),
    "st_ringing": ("振铃", "Ringing"),
    "st_on_call": ("通话中", "On a call"),
    "st_wrapup": ("话后整理", "Wrap-up"),
    "st_paused": ("小休", "Paused"),
    "st_busy": ("忙", "Busy"),
    "st_unavailable": ("不可用", "Unavailable"),
    "st_logged_out": ("未签入", "Logged out"),
    "st_running": ("运行中", "Running"),
    "st_paused_campaign": ("已暂停", "Paused"),
    "connected": ("实时数据已连接", "Live data connected"),
    "disconnected": ("实时数据已断开,正在重连…", "Live data lost, reconnecting…"),
}


def texts(language: str) -> dict[str, str]:
    index = 1 if language == "en" else 0
    return {key: pair[index] for key, pair in _TEXTS.items()}
