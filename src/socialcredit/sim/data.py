"""Static data of the synthetic town: districts, surnames, given-name characters.

Everything here is a plain tuple so that the generators can turn it into numpy arrays once and
then draw from it for hundreds of thousands of people without a Python loop per person.
"""

__all__ = [
    "AREA_CODE",
    "DISTRICTS",
    "FEMALE_NAME_CHARACTERS",
    "MALE_NAME_CHARACTERS",
    "SURNAMES",
]

# GB/T 2260 address code of 荣成市 (Rongcheng, county-level city of Weihai, Shandong).
AREA_CODE = "371082"

# The 10 subdistricts (街道) and 12 towns (镇) of Rongcheng, with the division codes
# 371082001-010 and 371082101-112 under which they appear in public administrative-division
# tables (GB/T 2260 / statistical division codes, as listed e.g. in the division data bundled
# with many Chinese address pickers). The weights are our rough estimates of where the roughly
# 670,000 residents live (the urban core 崖头街道 is by far the largest, then the Shidao area
# subdistricts and the bigger coastal towns); they are plausible, not census figures.
DISTRICTS: tuple[tuple[str, float], ...] = (
    ("崖头街道", 14.0),
    ("城西街道", 6.0),
    ("寻山街道", 3.5),
    ("崂山街道", 3.0),
    ("宁津街道", 4.5),
    ("港湾街道", 4.0),
    ("桃园街道", 4.0),
    ("王连街道", 2.5),
    ("东山街道", 4.5),
    ("斥山街道", 4.0),
    ("俚岛镇", 5.5),
    ("成山镇", 5.0),
    ("埠柳镇", 3.5),
    ("港西镇", 4.0),
    ("夏庄镇", 3.0),
    ("崖西镇", 3.0),
    ("荫子镇", 3.0),
    ("滕家镇", 3.5),
    ("大疃镇", 3.0),
    ("上庄镇", 2.5),
    ("虎山镇", 3.5),
    ("人和镇", 3.5),
)

# Surnames with relative frequencies (per cent of the population). The order and the first
# twenty figures follow the national ranking of the public-security household register (王 李 张
# 刘 陈 杨 赵 黄 周 吴 徐 孙 胡 朱 高 林 何 郭 马 罗); a few names that are markedly common on the
# Jiaodong peninsula (于 姜 曲 毕 鞠 邹 丛 孙) get a modest local boost.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.3),
    ("李", 7.2),
    ("张", 6.8),
    ("刘", 5.4),
    ("陈", 4.0),
    ("杨", 3.2),
    ("赵", 2.3),
    ("黄", 1.6),
    ("周", 1.9),
    ("吴", 1.6),
    ("徐", 1.7),
    ("孙", 2.4),
    ("胡", 1.2),
    ("朱", 1.2),
    ("高", 1.3),
    ("林", 1.3),
    ("何", 1.0),
    ("郭", 1.2),
    ("马", 1.0),
    ("罗", 0.7),
    ("梁", 0.8),
    ("宋", 1.0),
    ("郑", 0.8),
    ("谢", 0.6),
    ("韩", 0.9),
    ("唐", 0.6),
    ("冯", 0.7),
    ("于", 1.6),
    ("董", 0.7),
    ("肖", 0.5),
    ("程", 0.5),
    ("曹", 0.6),
    ("袁", 0.5),
    ("邓", 0.4),
    ("许", 0.6),
    ("傅", 0.4),
    ("沈", 0.4),
    ("曾", 0.3),
    ("彭", 0.4),
    ("吕", 0.5),
    ("苏", 0.5),
    ("卢", 0.4),
    ("蒋", 0.4),
    ("蔡", 0.4),
    ("贾", 0.5),
    ("丁", 0.5),
    ("魏", 0.5),
    ("薛", 0.4),
    ("叶", 0.3),
    ("阎", 0.3),
    ("潘", 0.3),
    ("杜", 0.4),
    ("夏", 0.3),
    ("田", 0.5),
    ("任", 0.4),
    ("姜", 1.1),
    ("范", 0.4),
    ("方", 0.3),
    ("石", 0.4),
    ("姚", 0.3),
    ("邹", 0.6),
    ("金", 0.3),
    ("郝", 0.3),
    ("孔", 0.3),
    ("崔", 0.5),
    ("毛", 0.2),
    ("秦", 0.3),
    ("史", 0.3),
    ("侯", 0.3),
    ("邵", 0.3),
    ("孟", 0.4),
    ("汤", 0.4),
    ("曲", 0.8),
    ("毕", 0.6),
    ("鞠", 0.5),
    ("丛", 0.4),
    ("连", 0.2),
    ("谷", 0.3),
    ("乔", 0.2),
    ("常", 0.2),
    ("慕", 0.1),
    ("初", 0.2),
    ("隋", 0.2),
    ("车", 0.1),
)

# Common given-name characters. A given name has one or two of them; men and women draw from
# different lists because that is how names are chosen in practice, which keeps a "王秀英" from
# being generated for a man. ``dict.fromkeys`` drops repeated characters (equal weights).
MALE_NAME_CHARACTERS: tuple[str, ...] = tuple(
    dict.fromkeys(
        "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁建国峰林亮东海志文成俊浩宇帅龙凯洪德永庆福生春振"
        "兴宏忠利民学新立军晓光瑞彬松健昌胜明清山云武德良金祥"
    )
)
FEMALE_NAME_CHARACTERS: tuple[str, ...] = tuple(
    dict.fromkeys(
        "芳娜敏静丽艳娟霞秀英燕玲桂丹萍红玉兰梅莉琳雪慧婷倩洁颖晶佳欣悦月云凤华荣琴蓉爱霖"
        "淑珍美娥翠巧彩春菊秋莹晓雅梦琪怡璐"
    )
)
